// The Adam update, the hot loop of MLP training: per element two divisions and a square root,
// which saturate the divider. It is C, not Swift, for two measured reasons: Swift cannot build
// one function for several instruction sets, and AVX doubles the divider's width on current
// x86 cores (sms_spam MLP CV 18.3 s → 11.9 s); and Swift's `squareRoot()` on Linux calls libm
// behind an errno branch that stops vectorisation. `target_clones` builds an AVX2 and a
// baseline copy and picks one when the library loads.
#include "CKernels.h"

// Fused multiply-adds would round differently from NumPy.
#pragma STDC FP_CONTRACT OFF

// Four doubles at any 8-byte alignment (clang lets a vector of doubles alias doubles).
typedef double double4 __attribute__((ext_vector_type(4), aligned(8)));

#if defined(__x86_64__) && defined(__linux__)
#define LATHE_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define LATHE_MULTIVERSION
#endif

static inline __attribute__((always_inline)) double adam(double *restrict w, const double *restrict g,
                                                         double *restrict m, double *restrict v, ptrdiff_t count,
                                                         const lathe_step_constants *k) {
    const double alpha = k->alpha, rows = k->rows, b1 = k->beta1, b2 = k->beta2, epsilon = k->epsilon;
    const double c1 = 1 - b1, c2 = 1 - b2, step = -k->rate;
    double4 lanes = 0;
    ptrdiff_t e = 0;
    for (; e + 4 <= count; e += 4) {
        const double4 x = *(const double4 *)(w + e);
        lanes += x * x;
        const double4 grad = ((g ? *(const double4 *)(g + e) : (double4)0) + alpha * x) / rows;
        const double4 first = b1 * *(const double4 *)(m + e) + c1 * grad;
        const double4 second = b2 * *(const double4 *)(v + e) + c2 * (grad * grad);
        *(double4 *)(m + e) = first;
        *(double4 *)(v + e) = second;
        *(double4 *)(w + e) = x + step * first / (__builtin_elementwise_sqrt(second) + epsilon);
    }
    double squares = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; e < count; e++) {
        const double x = w[e];
        squares += x * x;
        const double grad = ((g ? g[e] : 0.0) + alpha * x) / rows;
        m[e] = b1 * m[e] + c1 * grad;
        v[e] = b2 * v[e] + c2 * (grad * grad);
        w[e] = x + step * m[e] / (__builtin_elementwise_sqrt(v[e]) + epsilon);
    }
    return squares;
}

LATHE_MULTIVERSION
double lathe_adam_step(double *w, const double *g, double *m, double *v, ptrdiff_t count,
                       const lathe_step_constants *step) {
    return g ? adam(w, g, m, v, count, step) : adam(w, NULL, m, v, count, step);
}

LATHE_MULTIVERSION
void lathe_adam_replay(double *w, double *m, double *v, ptrdiff_t count,
                       const lathe_step_constants *steps, ptrdiff_t stepCount, double *squares) {
    for (ptrdiff_t s = 0; s < stepCount; s++) squares[s] += adam(w, NULL, m, v, count, steps + s);
}
