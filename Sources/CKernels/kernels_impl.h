/*
 * kernels_impl.h — the element kernels, written once and compiled once per path: each of
 * kernels_baseline.c, kernels_avx2.c and kernels_avx512.c defines CK_FN (the name suffix) and
 * includes this file between `#pragma clang attribute push(target(...))` and `pop`, so the same
 * C becomes baseline x86-64, AVX2+FMA and AVX-512 machine code in one build, and `cpu.c` picks
 * one at run time (ck_kernels_for).
 *
 * GELU, exact erf form (PyTorch's default `gelu`), alone or with its slope GELU'(x) for the
 * backward (which is then one multiply). The loops ask clang to keep four vectors in flight:
 * each element is one long dependent chain (divide, polynomial, exponential), so with one vector
 * per iteration the core waits on latencies (measured 1.5-2x slower).
 *
 * Sum of squares: float sums in 16 lanes over blocks of 1024 elements, each block added to a
 * double total; the order of operations depends only on n, not on the vector width (the 16
 * lanes are part of the algorithm).
 *
 * bfloat16 rounding, kept as float32 (the emulated GEMM operands) or stored as bfloat16 (a fused
 * attention's q, k, v): the integer form of ck_bf16_from_float_portable, bit for bit on every
 * path (tested), vectorised by the compiler on each.
 *
 * The AVX2 and AVX-512 paths give the same results bit for bit (the same operations per element
 * and lane, FMA-contracted alike; tested); baseline x86-64 has no FMA, so its results can differ
 * from theirs in the last bits.
 */
#include "ck_math.h"

/** 1/√(2π), the standard normal density at 0. */
#define CK_INV_SQRT_2PI 0.39894228040143267794f

/** Elements per float block before the block's sum joins the double total. */
#define CK_SUM_BLOCK 1024

void CK_FN(ck_gelu)(const float *x, float *y, size_t n) {
    size_t i;
#pragma clang loop interleave_count(4)
    for (i = 0; i < n; ++i) {
        const float v = x[i];
        y[i] = v * ck_normal_cdf(v, ck_exp_nonpositive(-0.5f * v * v));
    }
}

void CK_FN(ck_gelu_with_slope)(const float *x, float *y, float *slope, size_t n) {
    size_t i;
#pragma clang loop interleave_count(4)
    for (i = 0; i < n; ++i) {
        const float v = x[i];
        const float e = ck_exp_nonpositive(-0.5f * v * v);
        const float cdf = ck_normal_cdf(v, e);
        y[i] = v * cdf;
        slope[i] = cdf + v * CK_INV_SQRT_2PI * e; /* GELU'(x) = Φ(x) + x·φ(x) */
    }
}

double CK_FN(ck_sum_squares)(const float *x, size_t n) {
    double total = 0.0;
    size_t i = 0;
    while (i < n) {
        const size_t end = n - i < CK_SUM_BLOCK ? n : i + CK_SUM_BLOCK;
        float acc[16] = {0};
        float block = 0.0f;
        int k;
        for (; i + 16 <= end; i += 16)
            for (k = 0; k < 16; ++k) acc[k] += x[i + k] * x[i + k];
        for (; i < end; ++i) acc[0] += x[i] * x[i];
        for (k = 0; k < 16; ++k) block += acc[k];
        total += (double)block;
    }
    return total;
}

/* The bit pattern of float32 `u` rounded to bfloat16, as the upper half of a float32 (what
 * ck_bf16_from_float_portable does, see bf16.c), in branch-free integer operations, so that
 * the loops below vectorise on every path (AVX-512: vpaddd, vpternlogd, compare masks): round to
 * nearest even by adding 0x7FFF plus the lowest kept bit; zero and denormals give a signed zero;
 * NaN comes back quiet (0x0040 in the upper half set) with its sign and top payload bits. */
static inline uint32_t CK_FN(ck_bf16_rounded_bits)(uint32_t u) {
    uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    r = (u & 0x7F800000u) == 0 ? (u & 0x80000000u) : r;
    r = (u & 0x7FFFFFFFu) > 0x7F800000u ? ((u | 0x00400000u) & 0xFFFF0000u) : r;
    return r;
}

void CK_FN(ck_bf16_round_floats)(const float *x, float *y, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        uint32_t u, r;
        memcpy(&u, &x[i], sizeof u);
        r = CK_FN(ck_bf16_rounded_bits)(u);
        memcpy(&y[i], &r, sizeof r);
    }
}

void CK_FN(ck_bf16_from_floats)(const float *x, uint16_t *y, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        y[i] = (uint16_t)(CK_FN(ck_bf16_rounded_bits)(u) >> 16);
    }
}
