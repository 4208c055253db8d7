package dev.lstm4j.cuda;

/**
 * Whether one of the CUDA libraries (cudart, cublas, cudnn) loaded through JavaCPP, its version, or why not.
 *
 * @param version the library's own version text when loaded ("12.6", "9.5.1"), else empty
 */
public record LibraryStatus(String library, boolean loaded, String version, String reason) {
    static LibraryStatus loaded(String library, String version) {
        return new LibraryStatus(library, true, version, "loaded");
    }

    static LibraryStatus failed(String library, String reason) {
        return new LibraryStatus(library, false, "", reason);
    }

    @Override
    public String toString() {
        return loaded ? library + " " + version + ": loaded" : library + ": not loaded: " + reason;
    }
}
