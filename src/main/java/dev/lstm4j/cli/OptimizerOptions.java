package dev.lstm4j.cli;

import dev.lstm4j.train.LrSchedule;
import dev.lstm4j.train.Optimizer;
import dev.lstm4j.train.Optimizers;

/** The optimizer and learning-rate flags every training command shares, with a recipe's defaults. */
record OptimizerOptions(String type, double lr, double momentum, double beta1, double beta2, double eps,
                        double weightDecay, String schedule, int decayStart, double lrDecay, double minLr, double clip) {
    static final String HELP = """
              --optimizer sgd|adam|adamw   --lr X   --momentum X (sgd)   --beta1 X --beta2 X --eps X (adam)
              --weight-decay X (L2 for sgd/adam, decoupled for adamw)
              --schedule constant|step|cosine   --decay-start E --lr-decay X (step: lr*X^max(0,epoch+1-E))
              --min-lr X (cosine)   --clip X (global gradient-norm bound, 0 = off)\
            """;

    static OptimizerOptions fromArgs(Args a, OptimizerOptions defaults) {
        return new OptimizerOptions(a.option("optimizer", defaults.type), a.doubleOption("lr", defaults.lr),
                a.doubleOption("momentum", defaults.momentum), a.doubleOption("beta1", defaults.beta1),
                a.doubleOption("beta2", defaults.beta2), a.doubleOption("eps", defaults.eps),
                a.doubleOption("weight-decay", defaults.weightDecay), a.option("schedule", defaults.schedule),
                a.intOption("decay-start", defaults.decayStart), a.doubleOption("lr-decay", defaults.lrDecay),
                a.doubleOption("min-lr", defaults.minLr), a.doubleOption("clip", defaults.clip));
    }

    Optimizer optimizer() {
        return Optimizers.create(type, momentum, beta1, beta2, eps, weightDecay);
    }

    LrSchedule schedule(long totalSteps) {
        return switch (schedule) {
            case "constant" -> LrSchedule.constant(lr);
            case "step" -> LrSchedule.stepDecay(lr, decayStart, lrDecay);
            case "cosine" -> LrSchedule.cosine(lr, minLr, Math.max(1, totalSteps));
            default -> throw new UsageException("--schedule: expected constant, step or cosine, got '" + schedule + "'");
        };
    }
}
