package dev.lstm4j.lstm;

import dev.lstm4j.tensor.DType;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks a backend for a spec (DESIGN.md, "Dispatch"): the first backend in {@link BackendKind} order that is present
 * and can run the spec. Whenever it passes over a faster backend for any reason other than missing hardware, it logs
 * why, once per distinct reason.
 */
public final class Dispatcher {
    private static final System.Logger LOG = System.getLogger(Dispatcher.class.getName());
    private static final Set<String> ALREADY_SAID = ConcurrentHashMap.newKeySet();

    private final List<LstmBackendProvider> providers;

    public Dispatcher(List<LstmBackendProvider> providers) {
        List<LstmBackendProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparing(LstmBackendProvider::kind));
        this.providers = List.copyOf(sorted);
    }

    /** The providers on the class path. */
    public static Dispatcher discover() {
        List<LstmBackendProvider> found = new ArrayList<>();
        ServiceLoader.load(LstmBackendProvider.class, Dispatcher.class.getClassLoader()).forEach(found::add);
        return new Dispatcher(found);
    }

    public List<LstmBackendProvider> providers() {
        return providers;
    }

    public Optional<LstmBackendProvider> provider(BackendKind kind) {
        return providers.stream().filter(p -> p.kind() == kind).findFirst();
    }

    /** The backend {@code auto} picks. */
    public Selection chooseAuto(LstmSpec spec, DType dtype) {
        List<String> passedOver = new ArrayList<>();
        for (LstmBackendProvider p : providers) {
            if (!p.kind().autoPickable()) {
                continue;
            }
            LstmBackendProvider.Availability a = p.availability();
            if (!a.available()) {
                passedOver.add(p.kind().label() + " not used: " + a.reason());
                if (!a.hardwareAbsent()) {
                    sayOnce(p.kind().label() + " is unavailable, so lstm4j runs slower than this machine allows: "
                            + a.reason());
                }
                continue;
            }
            Optional<String> why = p.unsupportedReason(spec, dtype);
            if (why.isPresent()) {
                passedOver.add(p.kind().label() + " not used: " + why.get());
                sayOnce(p.kind().label() + " cannot run " + spec + " in " + dtype + ": " + why.get()
                        + "; falling back to a slower backend");
                continue;
            }
            String reason = passedOver.isEmpty()
                    ? "the fastest backend present for this spec"
                    : "the fastest backend that can run this spec here";
            return new Selection(p, new BackendChoice(p.kind(), "auto", reason, passedOver));
        }
        throw new IllegalStateException("backend: no backend can run " + spec + " in " + dtype + ": " + passedOver);
    }

    /** A backend the user forced; fails with the reason if it is absent or cannot run the spec. */
    public Selection choose(BackendKind kind, LstmSpec spec, DType dtype) {
        LstmBackendProvider p = provider(kind).orElseThrow(() -> new IllegalArgumentException(
                "backend: " + kind.label() + " is not on the class path (providers found: "
                        + providers.stream().map(q -> q.kind().label()).toList() + ")"));
        LstmBackendProvider.Availability a = p.availability();
        if (!a.available()) {
            throw new IllegalArgumentException("backend: " + kind.label() + " was requested but is unavailable: " + a.reason());
        }
        Optional<String> why = p.unsupportedReason(spec, dtype);
        if (why.isPresent()) {
            throw new IllegalArgumentException("backend: " + kind.label() + " was requested but cannot run " + spec
                    + " in " + dtype + ": " + why.get());
        }
        return new Selection(p, new BackendChoice(kind, kind.label(), "requested by the user", List.of()));
    }

    private static void sayOnce(String message) {
        if (ALREADY_SAID.add(message)) {
            LOG.log(Level.WARNING, message);
        }
    }

    public record Selection(LstmBackendProvider provider, BackendChoice choice) {}
}
