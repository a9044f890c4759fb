/*
 * ck_kernels.h — element kernels of the host's tensor engine written in C.
 *
 * Internal to the host (not part of the plugin ABI in include/autoglm/). These are the loops
 * where Swift's SIMD types compile poorly (the 8-lane polynomials are split into 4-lane halves
 * with spills); in C the compiler vectorises them to full AVX2 registers with FMA. Every
 * function is pure, thread-safe and works on caller-owned memory; callers split work across
 * threads by giving disjoint ranges.
 */
#ifndef CK_KERNELS_H
#define CK_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** y[i] = GELU(x[i]) = x[i]·Φ(x[i]) for i < n (the exact erf form; Φ with relative error about
 *  2e-7 everywhere, including the left tail). `y` may equal `x`. */
void ck_gelu(const float *x, float *y, size_t n);

/** dx[i] (+)= g[i]·GELU'(x[i]) with GELU'(x) = Φ(x) + x·φ(x), for i < n: added to dx when
 *  `accumulate` is nonzero, stored otherwise. `dx` may equal `g`. */
void ck_gelu_backward(const float *x, const float *g, float *dx, size_t n, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
