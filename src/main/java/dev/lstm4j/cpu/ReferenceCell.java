package dev.lstm4j.cpu;

import dev.lstm4j.lstm.Activation;
import dev.lstm4j.lstm.LstmSpec;

/**
 * One LSTM step for one sequence, forward and backward, written out equation by equation (DESIGN.md):
 *
 * <pre>
 * i = f(W_i x + R_i h₋ + p_i ⊙ c₋ + b_i)      f = f(W_f x + R_f h₋ + p_f ⊙ c₋ + b_f)   (or f = 1 − i)
 * g = g(W_g x + R_g h₋ + b_g)                 c = f ⊙ c₋ + i ⊙ g                       (then cell clip)
 * o = f(W_o x + R_o h₋ + p_o ⊙ c + b_o)       h = o ⊙ h(c)                             (then h = W_hr h)
 * </pre>
 *
 * The ONNX clip bounds the input of every activation; the cell clip bounds c itself.
 */
final class ReferenceCell {
    private final LstmSpec spec;
    private final Precision p;
    private final CellWeights w;
    private final int hidden;
    private final Activation fAct;
    private final Activation gAct;
    private final Activation hAct;

    ReferenceCell(LstmSpec spec, Precision p, CellWeights w) {
        this.spec = spec;
        this.p = p;
        this.w = w;
        this.hidden = spec.hiddenSize();
        this.fAct = spec.gateActivation();
        this.gAct = spec.cellActivation();
        this.hAct = spec.hiddenActivation();
    }

    /** What one step computed, kept for backward. Pre-activations include bias and peephole terms, before clip. */
    static final class Step {
        double[] x, hPrev, cPrev;        // [in], [P or H], [H]
        double[] ai, af, ag, ao;         // [H] pre-activations
        double[] i, f, g, o;             // [H] gates
        double[] cRaw, c, m, h;          // [H], [H], [H] = o ⊙ h(c), [P or H]
    }

    Step forward(double[] x, double[] hPrev, double[] cPrev) {
        Step s = new Step();
        s.x = x;
        s.hPrev = hPrev;
        s.cPrev = cPrev;
        int n = hidden;
        s.ai = new double[n]; s.af = new double[n]; s.ag = new double[n]; s.ao = new double[n];
        s.i = new double[n]; s.f = new double[n]; s.g = new double[n]; s.o = new double[n];
        s.cRaw = new double[n]; s.c = new double[n]; s.m = new double[n];
        for (int j = 0; j < n; j++) {
            double ai = preActivation(j, x, hPrev);
            double af = preActivation(n + j, x, hPrev);
            double ag = preActivation(2 * n + j, x, hPrev);
            double ao = preActivation(3 * n + j, x, hPrev);
            if (w.peep != null) {
                ai = p.r(ai + p.r(w.peep[j] * cPrev[j]));
                af = p.r(af + p.r(w.peep[n + j] * cPrev[j]));
            }
            double i = p.r(fAct.apply(clip(ai)));
            double f = spec.inputForget() ? p.r(1.0 - i) : p.r(fAct.apply(clip(af)));
            double g = p.r(gAct.apply(clip(ag)));
            double cRaw = p.r(p.r(f * cPrev[j]) + p.r(i * g));
            double c = cellClip(cRaw);
            if (w.peep != null) {
                ao = p.r(ao + p.r(w.peep[2 * n + j] * c));
            }
            double o = p.r(fAct.apply(clip(ao)));
            s.ai[j] = ai; s.af[j] = af; s.ag[j] = ag; s.ao[j] = ao;
            s.i[j] = i; s.f[j] = f; s.g[j] = g; s.o[j] = o;
            s.cRaw[j] = cRaw;
            s.c[j] = c;
            s.m[j] = p.r(o * p.r(hAct.apply(clip(c))));
        }
        if (w.wHr != null) {
            s.h = new double[w.wHr.length];
            for (int k = 0; k < s.h.length; k++) {
                s.h[k] = p.dot(w.wHr[k], s.m);
            }
        } else {
            s.h = s.m;
        }
        return s;
    }

    /**
     * Backward through one step. {@code dh} and {@code dcNext} are the loss gradients for this step's h and c;
     * adds this step's parameter gradients to {@code grad} and its input gradient to {@code dx}; returns the
     * gradients for h₋ and c₋ as {dhPrev, dcPrev}.
     */
    double[][] backward(Step s, double[] dh, double[] dcNext, CellWeights grad, double[] dx) {
        int n = hidden;
        double[] dm;
        if (w.wHr != null) {
            dm = new double[n];
            for (int k = 0; k < dh.length; k++) {
                p.axpy(dh[k], w.wHr[k], dm);
                p.axpy(dh[k], s.m, grad.wHr[k]);
            }
        } else {
            dm = dh;
        }
        double[] da = new double[4 * n];
        double[] dcPrev = new double[n];
        for (int j = 0; j < n; j++) {
            double hc = p.r(hAct.apply(clip(s.c[j])));
            double dO = p.r(dm[j] * hc);
            double dao = p.r(dO * p.r(fAct.derivative(clip(s.ao[j])) * clipGrad(s.ao[j])));
            double dc = p.r(dcNext[j] + p.r(p.r(dm[j] * s.o[j])
                    * p.r(hAct.derivative(clip(s.c[j])) * clipGrad(s.c[j]))));
            if (w.peep != null) {
                dc = p.r(dc + p.r(dao * w.peep[2 * n + j]));
                grad.peep[2 * n + j] = p.r(grad.peep[2 * n + j] + p.r(dao * s.c[j]));
            }
            double dcRaw = p.r(dc * cellClipGrad(s.cRaw[j]));
            double dI = p.r(dcRaw * s.g[j]);
            double dG = p.r(dcRaw * s.i[j]);
            double dF = p.r(dcRaw * s.cPrev[j]);
            double dcp = p.r(dcRaw * s.f[j]);
            double daf = 0;
            if (spec.inputForget()) {
                dI = p.r(dI - dF);
            } else {
                daf = p.r(dF * p.r(fAct.derivative(clip(s.af[j])) * clipGrad(s.af[j])));
            }
            double dai = p.r(dI * p.r(fAct.derivative(clip(s.ai[j])) * clipGrad(s.ai[j])));
            double dag = p.r(dG * p.r(gAct.derivative(clip(s.ag[j])) * clipGrad(s.ag[j])));
            if (w.peep != null) {
                dcp = p.r(dcp + p.r(p.r(dai * w.peep[j]) + p.r(daf * w.peep[n + j])));
                grad.peep[j] = p.r(grad.peep[j] + p.r(dai * s.cPrev[j]));
                grad.peep[n + j] = p.r(grad.peep[n + j] + p.r(daf * s.cPrev[j]));
            }
            da[j] = dai;
            da[n + j] = daf;
            da[2 * n + j] = dag;
            da[3 * n + j] = dao;
            dcPrev[j] = dcp;
        }
        double[] dhPrev = new double[s.hPrev.length];
        for (int r = 0; r < 4 * n; r++) {
            p.axpy(da[r], s.x, grad.wIh[r]);
            p.axpy(da[r], s.hPrev, grad.wHh[r]);
            grad.bIh[r] = p.r(grad.bIh[r] + da[r]);
            grad.bHh[r] = p.r(grad.bHh[r] + da[r]);
            p.axpy(da[r], w.wIh[r], dx);
            p.axpy(da[r], w.wHh[r], dhPrev);
        }
        return new double[][] {dhPrev, dcPrev};
    }

    private double preActivation(int row, double[] x, double[] hPrev) {
        double a = p.r(p.dot(w.wIh[row], x) + p.dot(w.wHh[row], hPrev));
        return p.r(p.r(a + w.bIh[row]) + w.bHh[row]);
    }

    private double clip(double x) {
        return spec.hasClip() ? Math.min(Math.max(x, -spec.clip()), spec.clip()) : x;
    }

    private double clipGrad(double x) {
        return spec.hasClip() && Math.abs(x) > spec.clip() ? 0.0 : 1.0;
    }

    private double cellClip(double c) {
        return spec.hasCellClip() ? Math.min(Math.max(c, -spec.cellClip()), spec.cellClip()) : c;
    }

    private double cellClipGrad(double c) {
        return spec.hasCellClip() && Math.abs(c) > spec.cellClip() ? 0.0 : 1.0;
    }
}
