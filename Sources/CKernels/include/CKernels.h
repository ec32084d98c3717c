#ifndef LATHE_CKERNELS_H
#define LATHE_CKERNELS_H

#include <stddef.h>

/// The constants of one optimizer step (scikit-learn's `AdamOptimizer`, `SGDOptimizer`): the
/// step size (Adam's after bias correction), the L2 penalty, the batch's row count, and Adam's
/// moment decays and floor.
typedef struct {
    double rate, alpha, rows, beta1, beta2, epsilon;
} lathe_step_constants;

/// One Adam step on `count` elements: `grad = (g + alpha·w) / rows`, the moment updates and
/// `w += −rate·m / (√v + epsilon)`, in scikit-learn's order of operations, without fused
/// multiply-adds (so the same doubles as NumPy). `g` may be NULL: no data gradient, only the
/// penalty's. Returns Σ w² before the step. The buffers must not overlap.
double lathe_adam_step(double *w, const double *g, double *m, double *v, ptrdiff_t count,
                       const lathe_step_constants *step);

/// `steps` successive Adam steps without data gradient on the same `count` elements (a row
/// whose feature no batch used), adding Σ w² before step `s` to `squares[s]`.
void lathe_adam_replay(double *w, double *m, double *v, ptrdiff_t count,
                       const lathe_step_constants *steps, ptrdiff_t stepCount, double *squares);

#endif
