package dev.lstm4j.io;

import dev.lstm4j.lstm.BackendKind;
import dev.lstm4j.lstm.LstmInput;
import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** What the tests that hold lstm4j to other implementations' results share: their fixtures and their runs. */
final class ForeignFixtures {
    /** A backend in a dtype. */
    record Run(BackendKind backend, DType dtype) {}

    /** Every backend that runs without a GPU, in each dtype it computes in. */
    static final List<Run> CPU_SIDE = List.of(new Run(BackendKind.REFERENCE, DType.FLOAT64),
            new Run(BackendKind.REFERENCE, DType.FLOAT32), new Run(BackendKind.CPU, DType.FLOAT32),
            new Run(BackendKind.HOST_KERNELS, DType.FLOAT32));

    private ForeignFixtures() {}

    /** (case, backend, dtype) for every case and run. */
    static Stream<Arguments> arguments(List<String> cases, List<Run> runs) {
        return cases.stream().flatMap(c -> runs.stream().map(r -> Arguments.of(c, r.backend(), r.dtype())));
    }

    /** The fixture file {@code /dev/lstm4j/DIR/NAME.safetensors} of the test resources. */
    static Path path(String dir, String name) throws URISyntaxException {
        return Path.of(ForeignFixtures.class.getResource("/dev/lstm4j/" + dir + "/" + name + ".safetensors").toURI());
    }

    /** The fixture's input in dtype, with its initial state ("h0", "c0") and lengths where it has them. */
    static LstmInput input(SafeTensorsFile fixture, DType dtype, Arena arena) {
        LstmInput in = LstmInput.of(fixture.get("input").to(dtype, arena));
        if (fixture.names().contains("h0")) {
            in = in.withInitialState(fixture.get("h0").to(dtype, arena), fixture.get("c0").to(dtype, arena));
        }
        if (fixture.names().contains("lengths")) {
            Tensor l = fixture.get("lengths");
            int[] lengths = new int[(int) l.elementCount()];
            for (int b = 0; b < lengths.length; b++) lengths[b] = (int) l.getFlat(b);
            in = in.withLengths(lengths);
        }
        return in;
    }
}
