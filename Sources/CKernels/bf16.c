/*
 * bf16.c — bfloat16 rounding and the GEMM on AVX512-BF16's `vdpbf16ps`.
 *
 * Rounding. bfloat16 keeps float32's sign and 8 exponent bits and the top 7 of its 23 mantissa
 * bits (8 significant bits with the implicit one): a float rounds to it by adding 0x7FFF plus the
 * lowest kept bit to its bit pattern and dropping the low 16 bits (round to nearest, ties to
 * even). The scalar form below reproduces what `vcvtne2ps2bf16` does bit for bit (Intel SDM:
 * denormal inputs are treated as zero, NaNs come back quiet with their sign and top payload
 * bits), so the emulated path rounds exactly as the native one; a test checks the two agree on
 * every special class and on random inputs.
 *
 * GEMM. C[m x n] (+)= alpha * op(A) op(B) with both operands rounded to bfloat16 and every
 * product accumulated in float32 by `vdpbf16ps` (16 lanes, each adding a[2i]*b[2i] +
 * a[2i+1]*b[2i+1]: pairs of consecutive k). op(B) is packed once per call into strips of
 * CK_BF16_NR columns, each [ceil(k/2)][NR] pairs of bf16 (zero-padded), shared by every panel;
 * each panel packs its blocks of op(A) (CK_BF16_MC rows x CK_BF16_KC depth) as
 * [KC/2][MR] pairs, broadcast one 32-bit pair at a time. The micro-kernel holds an MR x NR = 8 x 32
 * block of C in 16 zmm accumulators. Operands are read through (row, column) strides, so every
 * transpose is folded into the packing.
 */
#include "ck_kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/** Rows of op(A) per micro-kernel call and columns of op(B) per strip. */
#define CK_BF16_MR 8
/** Depth of one packed block of op(A) (even, so that k pairs never straddle two blocks). */
#define CK_BF16_KC 256
/** Rows of op(A) per packed block (a multiple of MR). */
#define CK_BF16_MC 128

/** float32 -> bfloat16, round to nearest even; zero and denormals give a signed zero, NaN a
 *  quiet NaN (what vcvtne2ps2bf16 gives). */
static inline uint16_t ck_bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/** bfloat16 -> float32 (exact). */
static inline float ck_bf16_widen(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void ck_bf16_from_float_portable(const float *x, uint16_t *y, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) y[i] = ck_bf16_round(x[i]);
}

void ck_bf16_to_float(const uint16_t *x, float *y, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) y[i] = ck_bf16_widen(x[i]);
}

#if defined(__x86_64__) && defined(__clang__)
#define CK_BF16_NATIVE 1
#define CK_TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

CK_TARGET_BF16
void ck_bf16_from_float_native(const float *x, uint16_t *y, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
        _mm512_storeu_si512((void *)(y + i), (__m512i)h);
    }
    if (i < n) {
        const __mmask16 lo = (__mmask16)(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1);
        const __mmask16 hi = (__mmask16)(n - i <= 16 ? 0 : n - i >= 32 ? 0xFFFF : (1u << (n - i - 16)) - 1);
        const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + i + 16), _mm512_maskz_loadu_ps(lo, x + i));
        _mm512_mask_storeu_epi16(y + i, ((__mmask32)hi << 16) | lo, (__m512i)h);
    }
}

/** Pair word of op(X) at (row r, k pair p) for X(r, k) = x[r*rs + k*cs], zero past k. */
static inline uint32_t ck_bf16_pair(const float *x, int64_t rs, int64_t cs, int64_t r, int64_t k0, int64_t k) {
    const uint32_t lo = k0 < k ? ck_bf16_round(x[r * rs + k0 * cs]) : 0;
    const uint32_t hi = k0 + 1 < k ? ck_bf16_round(x[r * rs + (k0 + 1) * cs]) : 0;
    return lo | hi << 16;
}

size_t ck_bf16_packed_b_count(int64_t k, int64_t n) {
    const int64_t strips = (n + CK_BF16_NR - 1) / CK_BF16_NR;
    return (size_t)(strips * ((k + 1) / 2) * CK_BF16_NR * 2);
}

void ck_bf16_pack_b(const float *b, int64_t rsb, int64_t csb, int64_t k, int64_t n, int64_t strip_begin,
                    int64_t strip_end, uint16_t *packed) {
    const int64_t pairs = (k + 1) / 2;
    int64_t s, p, c;
    for (s = strip_begin; s < strip_end; ++s) {
        uint32_t *dst = (uint32_t *)packed + s * pairs * CK_BF16_NR;
        const int64_t j0 = s * CK_BF16_NR, cols = n - j0 < CK_BF16_NR ? n - j0 : CK_BF16_NR;
        /* op(B)(p, j) = b[p*rsb + j*csb]: as a row-major "X" with rows j: X(j, p) */
        for (p = 0; p < pairs; ++p) {
            for (c = 0; c < cols; ++c) dst[p * CK_BF16_NR + c] = ck_bf16_pair(b, csb, rsb, j0 + c, 2 * p, k);
            for (; c < CK_BF16_NR; ++c) dst[p * CK_BF16_NR + c] = 0;
        }
    }
}

/** Packs op(A) rows [i0, i0 + rows) and depth [k0, k0 + kc) into [ceil(kc/2)][MR] pair words per
 *  MR-row strip (rows past `rows` are zero). */
static void ck_bf16_pack_a(const float *a, int64_t rsa, int64_t csa, int64_t i0, int64_t rows, int64_t k0,
                           int64_t kc, uint32_t *dst) {
    const int64_t pairs = (kc + 1) / 2;
    int64_t s, p, i;
    for (s = 0; s < rows; s += CK_BF16_MR) {
        const int64_t mr = rows - s < CK_BF16_MR ? rows - s : CK_BF16_MR;
        const float *as = a + (i0 + s) * rsa + k0 * csa;
        for (p = 0; p < pairs; ++p) {
            for (i = 0; i < mr; ++i) dst[p * CK_BF16_MR + i] = ck_bf16_pair(as, rsa, csa, i, 2 * p, kc);
            for (; i < CK_BF16_MR; ++i) dst[p * CK_BF16_MR + i] = 0;
        }
        dst += pairs * CK_BF16_MR;
    }
}

/** C[mr x nr] (+)= alpha * A B over `pairs` k pairs: A packed [pairs][MR] words, B one strip
 *  [pairs][NR] words. With `load` 0, C is overwritten. */
CK_TARGET_BF16
static void ck_bf16_kernel(int64_t pairs, const uint32_t *ap, const uint32_t *bp, float alpha, float *c,
                           int64_t ldc, int64_t mr, int64_t nr, int load) {
    __m512 acc[CK_BF16_MR][2];
    int64_t p;
    int i;
    const __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    const __mmask16 m1 = (__mmask16)(nr <= 16 ? 0 : nr >= 32 ? 0xFFFF : (1u << (nr - 16)) - 1);
    const __m512 va = _mm512_set1_ps(alpha);
    for (i = 0; i < CK_BF16_MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (p = 0; p < pairs; ++p) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(bp + p * CK_BF16_NR));
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(bp + p * CK_BF16_NR + 16));
        for (i = 0; i < CK_BF16_MR; ++i) {
            const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[p * CK_BF16_MR + i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
        }
    }
    for (i = 0; i < CK_BF16_MR; ++i) {
        float *ci = c + i * ldc;
        __m512 v0, v1;
        if (i >= mr) break;
        v0 = _mm512_mul_ps(acc[i][0], va);
        v1 = _mm512_mul_ps(acc[i][1], va);
        if (load) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ci));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ci + 16));
        }
        _mm512_mask_storeu_ps(ci, m0, v0);
        _mm512_mask_storeu_ps(ci + 16, m1, v1);
    }
}

int ck_bf16_gemm_panel(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                       const uint16_t *packed_b, int64_t strip0, float *c, int64_t ldc, int accumulate) {
    const int64_t pairs_b = (k + 1) / 2;
    uint32_t *ap = (uint32_t *)malloc((size_t)(CK_BF16_MC * (CK_BF16_KC / 2)) * sizeof(uint32_t));
    int64_t pc, ic, jr, ir;
    if (ap == NULL) return -1;
    for (pc = 0; pc < k; pc += CK_BF16_KC) {
        const int64_t kc = k - pc < CK_BF16_KC ? k - pc : CK_BF16_KC, pairs = (kc + 1) / 2;
        for (ic = 0; ic < m; ic += CK_BF16_MC) {
            const int64_t mc = m - ic < CK_BF16_MC ? m - ic : CK_BF16_MC;
            ck_bf16_pack_a(a, rsa, csa, ic, mc, pc, kc, ap);
            for (jr = 0; jr < n; jr += CK_BF16_NR) {
                const int64_t nr = n - jr < CK_BF16_NR ? n - jr : CK_BF16_NR;
                const uint32_t *bp = (const uint32_t *)packed_b + (strip0 + jr / CK_BF16_NR) * pairs_b * CK_BF16_NR
                                     + (pc / 2) * CK_BF16_NR;
                for (ir = 0; ir < mc; ir += CK_BF16_MR)
                    ck_bf16_kernel(pairs, ap + (ir / CK_BF16_MR) * pairs * CK_BF16_MR, bp, alpha,
                                   c + (ic + ir) * ldc + jr, ldc, mc - ir < CK_BF16_MR ? mc - ir : CK_BF16_MR, nr,
                                   accumulate || pc > 0);
            }
        }
    }
    free(ap);
    return 0;
}
#else
#define CK_BF16_NATIVE 0
void ck_bf16_from_float_native(const float *x, uint16_t *y, size_t n) { ck_bf16_from_float_portable(x, y, n); }
size_t ck_bf16_packed_b_count(int64_t k, int64_t n) { (void)k; (void)n; return 0; }
void ck_bf16_pack_b(const float *b, int64_t rsb, int64_t csb, int64_t k, int64_t n, int64_t strip_begin,
                    int64_t strip_end, uint16_t *packed) {
    (void)b; (void)rsb; (void)csb; (void)k; (void)n; (void)strip_begin; (void)strip_end; (void)packed;
}
int ck_bf16_gemm_panel(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                       const uint16_t *packed_b, int64_t strip0, float *c, int64_t ldc, int accumulate) {
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)rsa; (void)csa; (void)packed_b; (void)strip0;
    (void)c; (void)ldc; (void)accumulate;
    return -1;
}
#endif
