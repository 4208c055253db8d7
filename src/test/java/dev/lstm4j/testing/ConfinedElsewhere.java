package dev.lstm4j.testing;

import dev.lstm4j.tensor.DType;
import dev.lstm4j.tensor.Shape;
import dev.lstm4j.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/** A tensor that the calling thread may not touch: in an arena confined to another thread, open while it is used. */
public final class ConfinedElsewhere {
    private ConfinedElsewhere() {}

    /**
     * Runs use with a zero float32 tensor of the shape in an arena confined to a thread of its own, which keeps the
     * arena open until use returns and then closes it.
     */
    public static void use(Shape shape, Consumer<Tensor> use) throws InterruptedException {
        Tensor[] made = new Tensor[1];
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread owner = new Thread(() -> {
            try (Arena its = Arena.ofConfined()) {
                made[0] = Tensor.zeros(its, DType.FLOAT32, shape);
                ready.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "confined-elsewhere");
        owner.start();
        ready.await();
        try {
            use.accept(made[0]);
        } finally {
            done.countDown();
            owner.join();
        }
    }
}
