package dev.lstm4j.train;

import dev.lstm4j.nn.Model;
import dev.lstm4j.nn.ModelInput;
import dev.lstm4j.nn.RecurrentState;
import dev.lstm4j.nn.SoftmaxCrossEntropy;
import dev.lstm4j.nn.Tensors;
import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * One optimisation step and one evaluation step of a {@link Model} under softmax cross-entropy. Every random draw of
 * a step (dropout masks) comes from {@code seed} and the step number, so a run is a function of its seed, and a run
 * resumed from a checkpoint takes the identical next step.
 */
public final class Trainer {
    private final Model model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final double clipNorm;
    private final long seed;
    private double lossScale = 1.0;

    /** @param clipNorm global gradient-norm bound; 0 turns clipping off */
    public Trainer(Model model, Optimizer optimizer, LrSchedule schedule, double clipNorm, long seed) {
        this.model = Objects.requireNonNull(model, "model");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        if (!(clipNorm >= 0)) throw new IllegalArgumentException("clip: expected >= 0 (0 = off), got " + clipNorm);
        this.clipNorm = clipNorm;
        this.seed = seed;
    }

    /**
     * Multiplies the loss that is differentiated (not the one reported) by {@code scale}. The PTB recipe of Zaremba et
     * al. differentiates the sum over the T steps of the batch-mean loss, which is T times the per-token mean that
     * {@link SoftmaxCrossEntropy} returns; its learning rate 1 and clip 5 are meant for that scale.
     */
    public Trainer lossScale(double scale) {
        if (!(scale > 0)) throw new IllegalArgumentException("loss scale: expected > 0, got " + scale);
        this.lossScale = scale;
        return this;
    }

    public Model model() { return model; }
    public Optimizer optimizer() { return optimizer; }
    public LrSchedule schedule() { return schedule; }
    public long seed() { return seed; }

    /**
     * @param loss       mean loss of the batch before the update
     * @param gradNorm   global gradient norm before clipping (NaN when clipping is off)
     * @param finalState the detached final LSTM state when asked for (truncated BPTT), else null
     */
    public record Step(double loss, int count, int correct, double lr, double gradNorm, RecurrentState finalState) {}

    /** Forward, loss, backward, clip, update. {@code state} is the initial LSTM state (null: zeros). */
    public Step step(ModelInput in, int[] targets, RecurrentState state, boolean keepState, int epoch) {
        long stepNo = optimizer.steps();
        double lr = schedule.lr(epoch, stepNo);
        model.zeroGrad();
        try (Model.Pass pass = model.forward(in, state, true, dropoutSeed(stepNo)); Arena a = Arena.ofShared()) {
            SoftmaxCrossEntropy.Result res = SoftmaxCrossEntropy.compute(pass.logits(), targets, a);
            if (!Double.isFinite(res.sumLoss())) {
                throw new IllegalStateException("training diverged at step " + stepNo + ": loss is " + res.meanLoss()
                        + " (try a smaller learning rate or gradient clipping)");
            }
            if (lossScale != 1.0) Tensors.scale(res.gradLogits(), lossScale);
            model.backward(pass, res.gradLogits());
            double norm = clipNorm > 0 ? GradientClipping.clip(model.params(), clipNorm) : Double.NaN;
            optimizer.step(model.params(), lr);
            return new Step(res.meanLoss(), res.count(), res.correct(), lr, norm, keepState ? pass.finalState() : null);
        }
    }

    /** Loss without an update (inference mode: no dropout). */
    public record Eval(double sumLoss, int count, int correct, RecurrentState finalState) {}

    public Eval evaluate(ModelInput in, int[] targets, RecurrentState state, boolean keepState) {
        try (Model.Pass pass = model.forward(in, state, false, 0L)) {
            SoftmaxCrossEntropy.Result res = SoftmaxCrossEntropy.compute(pass.logits(), targets, null);
            return new Eval(res.sumLoss(), res.count(), res.correct(), keepState ? pass.finalState() : null);
        }
    }

    private long dropoutSeed(long step) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step).nextLong();
    }
}
