package dev.lstm4j.cpu;

import dev.lstm4j.tensor.DType;

/**
 * The reference computes in double and, for float32, rounds the result of every elementary operation to float, so
 * that its float32 results carry float32 rounding error (as float32 hardware would) rather than float64 results
 * merely stored as float.
 */
enum Precision {
    F64 {
        @Override
        double r(double x) {
            return x;
        }
    },
    F32 {
        @Override
        double r(double x) {
            return (float) x;
        }
    };

    abstract double r(double x);

    static Precision of(DType dtype) {
        return dtype == DType.FLOAT64 ? F64 : F32;
    }

    /** w · x, rounding after each multiply and add. */
    double dot(double[] w, double[] x) {
        double acc = 0;
        for (int k = 0; k < x.length; k++) {
            acc = r(acc + r(w[k] * x[k]));
        }
        return acc;
    }

    /** acc += a * x, element by element. */
    void axpy(double a, double[] x, double[] acc) {
        for (int k = 0; k < x.length; k++) {
            acc[k] = r(acc[k] + r(a * x[k]));
        }
    }
}
