package dev.lstm4j.cuda;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A fresh class loader over lstm4j's classes and the JavaCPP jars that records every class it defines. Code run
 * through it starts from zero (no class of lstm4j or JavaCPP loaded yet), so the recorded names show exactly which
 * classes that code needed.
 */
final class ClassLoadingProbe extends URLClassLoader {
    private final Set<String> defined = ConcurrentHashMap.newKeySet();

    ClassLoadingProbe() {
        super("lstm4j-probe", urls(), ClassLoader.getPlatformClassLoader());
    }

    private static URL[] urls() {
        return new URL[] {
            ClassLoadingProbe.class.getProtectionDomain().getCodeSource().getLocation(), // test classes
            CudaDriver.class.getProtectionDomain().getCodeSource().getLocation(),        // main classes
            jarOf("org/bytedeco/javacpp/Pointer.class"),
            jarOf("org/bytedeco/cuda/global/cudart.class"),
        };
    }

    /** The jar holding a resource, found without loading the class. */
    private static URL jarOf(String resource) {
        URL u = ClassLoader.getSystemResource(resource);
        if (u == null) {
            throw new IllegalStateException(resource + " is not on the test class path");
        }
        String s = u.toString(); // jar:file:/...!/org/...
        try {
            return URI.create(s.substring("jar:".length(), s.indexOf("!/"))).toURL();
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        Class<?> c = super.findClass(name);
        defined.add(name);
        return c;
    }

    List<String> definedMatching(String prefix) {
        return defined.stream().filter(n -> n.startsWith(prefix)).sorted().collect(Collectors.toList());
    }

    /** Runs {@code Task.run()} of a class by name, inside this loader. */
    Object run(String taskClass) throws Exception {
        Class<?> c = Class.forName(taskClass, true, this);
        return c.getMethod("call").invoke(c.getDeclaredConstructor().newInstance());
    }
}
