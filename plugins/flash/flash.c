/*
 * flash — fused, tiled causal attention in the style of FlashAttention-2 (Dao, "FlashAttention-2:
 * Faster Attention with Better Parallelism and Work Partitioning", 2023, Algorithms 1 and 2; the
 * online softmax is Milakov & Gimelshein, "Online normalizer calculation for softmax", 2018).
 * It computes exactly what `causal_dense` computes,
 *
 *     S = scale * Q K^T,   P = softmax_causal(S) (row-wise),   O = P V,
 *
 * but on raw views (path (b) of the attention vtable: fused_forward + fused_backward +
 * free_saved) and without ever materialising the [seq x seq] matrices.
 *
 * Forward. For every (batch, head) and query block Q_i of `block_q` rows, the key/value blocks
 * K_j, V_j of `block_k` rows are visited in order, skipping the blocks that lie entirely above
 * the diagonal (fully masked by causality). With a running row maximum m and sum l:
 *
 *     S_ij    = scale * Q_i K_j^T                      (the diagonal block masked: col > row)
 *     m_new   = max(m, rowmax(S_ij))
 *     P_ij    = exp(S_ij - m_new)
 *     l       = exp(m - m_new) * l + rowsum(P_ij)
 *     O_i     = exp(m - m_new) * O_i + P_ij V_j        m = m_new
 *
 * and at the end O_i /= l and LSE_i = m + log(l), the per-row log-sum-exp of S. Only LSE
 * ([batch, n_head, seq] floats) is kept for the backward in the plugin-owned `saved` block; the
 * output O itself is handed back by the host to fused_backward. With needs_backward = 0 nothing
 * is saved.
 *
 * Backward. P is recomputed tile by tile from Q, K and LSE (P_ij = exp(S_ij - LSE_i)), with
 * D_i = rowsum(dO_i * O_i):
 *
 *     dV_j += P_ij^T dO_i,   dP_ij = dO_i V_j^T,   dS_ij = P_ij * (dP_ij - D_i),
 *     dQ_i += scale * dS_ij K_j,   dK_j += scale * dS_ij^T Q_i.
 *
 * Key blocks are the outer loop (dK_j, dV_j stay in cache) and query blocks the inner one, from
 * the first block that reaches the diagonal.
 *
 * Grouped-query attention: with kv_heads < n_head, query head h reads key/value head
 * h / (n_head / kv_heads) (the layout of the host's repeat_interleave), and dK, dV of a kv head
 * sum over its query heads.
 *
 * Fused rotary embeddings (rope_base > 0): q and k are rotated to their positions inside the
 * kernel, as the `rope` attention does with host ops (rotate-half RoPE, pair (i, i + D/2) of
 * position p turned by p * rope_base^(-2i/D); the cos/sin table of block_size positions is
 * computed in double once, in create, and rounded to float). The forward rotates each query
 * tile and the keys of a head into scratch as it loads them (the views are read only: they may
 * point into the host's packed projection). The backward works on rotated copies the same way,
 * so it yields the gradients with respect to the rotated q and k, and turns them back (the
 * inverse rotation, in place) once a head's rows are complete: dq = R^T d(Rq), dk = R^T d(Rk).
 * Use it with `model.position_embedding: false`.
 *
 * Incremental decoding (ABI 1.2 `decode`, plugins/common/aglm_decode_util.h) serves sampling:
 * the new positions against the host's cache (rotated keys when rope_base > 0).
 *
 * Implementation. The scale and log2(e) are folded into the score GEMM's alpha, so the softmax
 * works with exp2, evaluated by a branch-free polynomial (Cephes exp2f, relative error < 2e-7)
 * that the compiler vectorises. Tile products use either the plugin's own register-blocked GEMM
 * (4 x 32 blocks with AVX-512, 4 x 16 with AVX2 + FMA, chosen at run time: the default on CPUs
 * with AVX2 + FMA; about 90 GFLOP/s per core with AVX2 on 64 x 64 tiles, against 55-70 for
 * OpenBLAS at these small sizes, and it skips the masked half of the diagonal tiles) or the
 * host's sgemm (the default without AVX2, where it is about three times faster than compiled C;
 * tiles are then shrunk so that no product exceeds 2^18 multiply-adds, above which OpenBLAS
 * would start its own threads inside the plugin's workers).
 *
 * bfloat16 (layout `bf16`, ABI 1.3). q, k and v may come as bfloat16 views (a run with
 * train.precision bf16): they are widened once per call into dense float32 scratch (exact), and
 * every operand of the five tile products is a bfloat16 value: P is rounded to bfloat16 before
 * P V and P^T dO, dO before dO V^T and P^T dO, dS before dS K and dS^T Q (round to nearest
 * even). The products then run on the same float32 kernels: a product of two bfloat16 values is
 * exact in float32, so this is what a bf16 dot-product instruction computes, accumulated in
 * float32 (on the CPU measured, `vdpbf16ps` runs at half the AVX-512 FMA rate: BENCHMARKS.md).
 * The softmax, its running max and sum, the log-sum-exp, D = rowsum(dO * O) and dS = P (dP - D)
 * stay float32 (on the unrounded P and dO). The forward is split over (batch, head, query block) work items with
 * host->parallel_for (query blocks in a zig-zag order so that any contiguous range of items
 * carries a similar causal workload); the backward over (batch, kv head) groups, each of which
 * owns its rows of dQ, dK and dV, so no two workers ever write the same memory and no atomics
 * are needed. Per worker scratch: two tiles, the transposed K (and V) of one head, and a few
 * rows of statistics.
 *
 * Parameters:
 *   block_q   int, default 64, 1..1024: query rows per tile (Br).
 *   block_k   int, default 64, 1..1024: key/value rows per tile (Bc).
 *   scale     float, default 0, >= 0: the factor applied to q.k; 0 means 1 / sqrt(head_dim).
 *   kv_heads  int, default 0, 0..65536: key/value heads (grouped-query attention); 0 means
 *             n_head; it must divide n_head (1 = multi-query attention).
 *   gemm      choice "auto" | "plugin" | "plugin_avx2" | "host", default "auto": how tile
 *             products are computed (see Implementation): "plugin" the widest own kernels the
 *             CPU runs, "plugin_avx2" the AVX2 ones, "host" the host's sgemm; "auto" picks
 *             "plugin" on CPUs with AVX2 + FMA, else "host". The results agree to float32
 *             rounding either way.
 *   rope_base float, default 0, >= 0: 0 = no rotary embedding; > 0: fused RoPE with this base
 *             (usually 10000; needs an even head_dim).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accepted values of `gemm`. */
static const char *const flash_gemm_choices[] = {"auto", "plugin", "plugin_avx2", "host", NULL};

/** Parameter schema. */
static const aglm_param_spec flash_params[] = {
    AGLM_PARAM_INT_SPEC("block_q", 64, 1, 1024, "query rows per tile (Br)"),
    AGLM_PARAM_INT_SPEC("block_k", 64, 1, 1024, "key/value rows per tile (Bc)"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the softmax; 0 means 1/sqrt(head_dim)"),
    AGLM_PARAM_INT_SPEC("kv_heads", 0, 0, 65536,
                        "key/value heads (grouped-query attention); 0 means n_head; must divide n_head"),
    AGLM_PARAM_CHOICE_SPEC("gemm", "auto", flash_gemm_choices,
                           "tile products: plugin (own kernel, AVX-512 or AVX2), plugin_avx2, host (host sgemm), auto (plugin on CPUs with AVX2+FMA)"),
    AGLM_PARAM_FLOAT_SPEC("rope_base", 0.0, 0.0, INFINITY,
                          "0: no rotary embedding; > 0: RoPE with this base fused into the kernel (use without position embeddings)"),
};

/** log2(e) and ln(2). */
#define FLASH_LOG2E 1.4426950408889634
#define FLASH_LN2 0.6931471805599453

/** The plugin's register-blocked tile kernels of one instruction set (see Tile products). */
typedef struct flash_kernels flash_kernels;

/** One instance (one per transformer block). */
typedef struct flash {
    int64_t n_head, kv_heads, head_dim;
    int64_t block_q, block_k;
    float scale;  /* resolved: > 0 */
    const flash_kernels *kern; /* resolved `gemm`: the plugin's tile kernels, or NULL = host->sgemm */
    double rope_base;        /* 0: no rotary embedding */
    int64_t rope_positions;  /* rows of the tables (block_size) */
    float *rope_cos, *rope_sin; /* [rope_positions, head_dim / 2], or NULL */
} flash;

/** What the forward keeps for the backward: the shape it was computed for and the per-row
 *  log-sum-exp of scale * q.k in base 2 (lse2 = LSE * log2(e)), [batch, n_head, seq]. */
typedef struct flash_saved {
    int64_t batch, n_head, seq;
    float lse2[]; /* batch * n_head * seq entries (flexible array member) */
} flash_saved;

/* ------------------------------------------------------------------------------------------- */
/* Element kernels (written so that the compiler vectorises them at -O3 without -march)        */
/* ------------------------------------------------------------------------------------------- */

/** 2^x for x <= 0 (also fine up to x < 128), 0 below -125, NaN for NaN. Cephes exp2f: x = n + f
 *  with n = round(x) and |f| <= 0.5, 2^f by a degree-6 polynomial (relative error < 2e-7), and
 *  2^n added to the exponent bits. Branch-free and libm-free so loops calling it vectorise. */
static inline float flash_exp2(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: x + magic rounds x to an integer */
    const float xc = x < -125.0f ? -125.0f : x;
    const float t = xc + magic;
    const float n = t - magic;
    const float f = xc - n;
    float p = 1.535336188319500e-4f;
    uint32_t tb, pb;
    float r;
    p = p * f + 1.339887440266574e-3f;
    p = p * f + 9.618437357674640e-3f;
    p = p * f + 5.550332471162809e-2f;
    p = p * f + 2.402264791363012e-1f;
    p = p * f + 6.931472028550421e-1f;
    p = p * f + 1.0f;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&pb, &p, sizeof pb);
    pb += (tb - 0x4B400000u) << 23; /* + n in the exponent field (mod 2^32: n may be negative) */
    memcpy(&r, &pb, sizeof r);
    r = x < -125.0f ? 0.0f : r;
    return x == x ? r : x;
}

/** Largest of s[0..n), n >= 1 (eight partial maxima so that the loop vectorises). */
static float flash_row_max(const float *AGLM_RESTRICT s, int64_t n) {
    float acc[8];
    int64_t c, k;
    float m;
    if (n < 8) {
        m = s[0];
        for (c = 1; c < n; ++c) m = s[c] > m ? s[c] : m;
        return m;
    }
    for (k = 0; k < 8; ++k) acc[k] = s[k];
    for (c = 8; c + 8 <= n; c += 8)
        for (k = 0; k < 8; ++k) acc[k] = s[c + k] > acc[k] ? s[c + k] : acc[k];
    m = acc[0];
    for (k = 1; k < 8; ++k) m = acc[k] > m ? acc[k] : m;
    for (; c < n; ++c) m = s[c] > m ? s[c] : m;
    return m;
}

/** Sum of s[0..n) (eight partial sums so that the loop vectorises). */
static float flash_row_sum(const float *AGLM_RESTRICT s, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t c, k;
    float total;
    for (c = 0; c + 8 <= n; c += 8)
        for (k = 0; k < 8; ++k) acc[k] += s[c + k];
    total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; c < n; ++c) total += s[c];
    return total;
}

/** Dot product of a[0..n) and b[0..n) (eight partial sums). */
static float flash_dot(const float *AGLM_RESTRICT a, const float *AGLM_RESTRICT b, int64_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t c, k;
    float total;
    for (c = 0; c + 8 <= n; c += 8)
        for (k = 0; k < 8; ++k) acc[k] += a[c + k] * b[c + k];
    total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; c < n; ++c) total += a[c] * b[c];
    return total;
}

/** s[c] = 2^(s[c] - shift) for c < n. */
static void flash_exp2_row(float *AGLM_RESTRICT s, int64_t n, float shift) {
    int64_t c;
    for (c = 0; c < n; ++c) s[c] = flash_exp2(s[c] - shift);
}

/** x[c] *= a for c < n. */
static void flash_scale_row(float *AGLM_RESTRICT x, int64_t n, float a) {
    int64_t c;
    for (c = 0; c < n; ++c) x[c] *= a;
}

/** ds[c] = p[c] * (ds[c] - d) for c < n: ds holds dP on entry and dS = P * (dP - D) on return. */
static void flash_ds_row(float *AGLM_RESTRICT ds, const float *AGLM_RESTRICT p, int64_t n, float d) {
    int64_t c;
    for (c = 0; c < n; ++c) ds[c] = p[c] * (ds[c] - d);
}

/** x rounded to the nearest bfloat16 (ties to even), as float32: zero and denormals give a
 *  signed zero and NaN a quiet NaN, as the x86 conversion instructions do. */
static inline float flash_bf16(float x) {
    uint32_t u, r;
    memcpy(&u, &x, sizeof u);
    r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
    r = (u & 0x7F800000u) == 0 ? (u & 0x80000000u) : r;
    r = (u & 0x7FFFFFFFu) > 0x7F800000u ? ((u | 0x00400000u) & 0xFFFF0000u) : r;
    memcpy(&x, &r, sizeof x);
    return x;
}

/** dst[c] = bfloat16(src[c]) for c < n (dst may equal src). */
static void flash_round_row(float *dst, const float *src, int64_t n) {
    int64_t c;
    for (c = 0; c < n; ++c) dst[c] = flash_bf16(src[c]);
}

/* ------------------------------------------------------------------------------------------- */
/* Tile products                                                                                 */
/* ------------------------------------------------------------------------------------------- */

/* The plugin's own GEMM is the default when the CPU has AVX2 and FMA (probed at run time; the
 * bundled build targets baseline x86-64, and the register-blocked kernels below are compiled for
 * AVX2+FMA and for AVX-512 with `target` attributes): its 4 x 16 AVX2 kernel runs at about
 * 90 GFLOP/s per core on 64 x 64 x 64 tiles, against 55-70 for the host's OpenBLAS sgemm at
 * these small sizes, and it never starts BLAS threads inside the plugin's own workers. Without
 * AVX2 the host's sgemm is about three times faster than compiled C, so it is the default there.
 * The `gemm` parameter overrides the choice. */

/** Largest tile product (multiply-adds) handed to the host's sgemm: OpenBLAS's default
 *  threshold for going multi-threaded (GEMM_MULTITHREAD_THRESHOLD 4 x 65536). */
#define FLASH_HOST_GEMM_MACS 262144

/** Rows of C per micro-kernel block, and the widest block's columns (AVX-512: 2 zmm). */
#define FLASH_MR 4
#define FLASH_NR_MAX 32

/** A block of C of any size up to FLASH_MR x FLASH_NR_MAX from k steps (plain C): C = alpha * A B,
 *  or C += alpha * A B when `accumulate`. A(i, p) = a[i*sam + p*sak]; B row-major, ldb. */
static void flash_block_any(int64_t rows, int64_t cols, int64_t k, float alpha,
                            const float *AGLM_RESTRICT a, int64_t sam, int64_t sak,
                            const float *AGLM_RESTRICT b, int64_t ldb, int accumulate,
                            float *AGLM_RESTRICT c, int64_t ldc) {
    float acc[FLASH_MR][FLASH_NR_MAX];
    int64_t p, i, j;
    for (i = 0; i < rows; ++i)
        for (j = 0; j < cols; ++j) acc[i][j] = 0.0f;
    for (p = 0; p < k; ++p) {
        const float *AGLM_RESTRICT bp = b + p * ldb;
        for (i = 0; i < rows; ++i) {
            const float av = a[i * sam + p * sak];
            for (j = 0; j < cols; ++j) acc[i][j] += av * bp[j];
        }
    }
    for (i = 0; i < rows; ++i)
        for (j = 0; j < cols; ++j)
            c[i * ldc + j] = alpha * acc[i][j] + (accumulate ? c[i * ldc + j] : 0.0f);
}

/** A full FLASH_MR x nr block (nr = the kernel set's width), accumulators in registers. */
typedef void (*flash_block_fn)(int64_t k, float alpha, const float *AGLM_RESTRICT a, int64_t sam,
                               int64_t sak, const float *AGLM_RESTRICT b, int64_t ldb, int accumulate,
                               float *AGLM_RESTRICT c, int64_t ldc);

/** The register-blocked kernels of one instruction set: FLASH_MR x nr blocks and FLASH_MR x nr/2
 *  blocks for the right edge. */
struct flash_kernels {
    int64_t nr;
    flash_block_fn full, half;
};

#if defined(__GNUC__) && defined(__x86_64__)
/* The blocks use the GCC/Clang vector extension (one vector = one register): written in plain C
 * the accumulators are left to the SLP vectoriser, which splits them badly once the kernel is
 * inlined (55-70 GFLOP/s instead of 90 with AVX2). */
typedef float flash_v8 __attribute__((vector_size(32)));
typedef float flash_v16 __attribute__((vector_size(64)));

/** A FLASH_MR x (lanes * W) block (W registers per row) for vector type V, compiled for TARGET. */
#define FLASH_BLOCK_VEC(name, V, W, TARGET)                                                      \
    __attribute__((target(TARGET))) static void name(                                            \
        int64_t k, float alpha, const float *AGLM_RESTRICT a, int64_t sam, int64_t sak,          \
        const float *AGLM_RESTRICT b, int64_t ldb, int accumulate, float *AGLM_RESTRICT c,       \
        int64_t ldc) {                                                                           \
        const int64_t lanes = (int64_t)(sizeof(V) / sizeof(float));                              \
        V acc[FLASH_MR][W];                                                                      \
        int64_t p, i, w;                                                                         \
        for (i = 0; i < FLASH_MR; ++i)                                                           \
            for (w = 0; w < W; ++w) acc[i][w] = (V){0};                                          \
        for (p = 0; p < k; ++p) {                                                                \
            V bv[W];                                                                             \
            for (w = 0; w < W; ++w) memcpy(&bv[w], b + p * ldb + lanes * w, sizeof(V));          \
            for (i = 0; i < FLASH_MR; ++i) {                                                     \
                const float av = a[i * sam + p * sak];                                           \
                for (w = 0; w < W; ++w) acc[i][w] += av * bv[w];                                 \
            }                                                                                    \
        }                                                                                        \
        for (i = 0; i < FLASH_MR; ++i)                                                           \
            for (w = 0; w < W; ++w) {                                                            \
                float *cp = c + i * ldc + lanes * w;                                             \
                V out = alpha * acc[i][w];                                                       \
                if (accumulate) {                                                                \
                    V old;                                                                       \
                    memcpy(&old, cp, sizeof(V));                                                 \
                    out += old;                                                                  \
                }                                                                                \
                memcpy(cp, &out, sizeof(V));                                                     \
            }                                                                                    \
    }
FLASH_BLOCK_VEC(flash_block_avx2_4x16, flash_v8, 2, "avx2,fma")
FLASH_BLOCK_VEC(flash_block_avx2_4x8, flash_v8, 1, "avx2,fma")
FLASH_BLOCK_VEC(flash_block_avx512_4x32, flash_v16, 2, "avx512f,avx2,fma")
FLASH_BLOCK_VEC(flash_block_avx512_4x16, flash_v16, 1, "avx512f,avx2,fma")

/** The AVX2+FMA kernels (4 x 16 and 4 x 8 blocks). */
static const flash_kernels flash_kernels_avx2 = {16, flash_block_avx2_4x16, flash_block_avx2_4x8};
/** The AVX-512 kernels (4 x 32 and 4 x 16 blocks). */
static const flash_kernels flash_kernels_avx512 = {32, flash_block_avx512_4x32, flash_block_avx512_4x16};

/** The widest kernels this CPU runs (AVX-512 when `widest`, else AVX2), or NULL without AVX2+FMA. */
static const flash_kernels *flash_kernels_for_cpu(int widest) {
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return NULL;
    if (widest && __builtin_cpu_supports("avx512f")) return &flash_kernels_avx512;
    return &flash_kernels_avx2;
}
#else
static const flash_kernels *flash_kernels_for_cpu(int widest) {
    (void)widest;
    return NULL;
}
#endif

/** How flash_gemm may use the causal structure of a tile whose row i and column j are the
 *  query r0 + i and the key c0 + j (off = r0 - c0; key > query is masked):
 *  FLASH_MASK_NONE     compute everything;
 *  FLASH_MASK_C        C's rows are queries and its columns keys: blocks lying wholly above
 *                      the diagonal (column > row + off) are not computed (left as they were);
 *  FLASH_MASK_K_UPPER  C's rows are queries, the sum runs over keys, and A is zero for
 *                      key > query + off: the sum stops there;
 *  FLASH_MASK_K_LOWER  C's rows are keys, the sum runs over queries, and A is zero for
 *                      query < key - off: the sum starts there. */
enum { FLASH_MASK_NONE = 0, FLASH_MASK_C = 1, FLASH_MASK_K_UPPER = 2, FLASH_MASK_K_LOWER = 3 };

/** C[m x n] = alpha * A B, or C += alpha * A B when `accumulate`, skipping what `mask` allows
 *  (see above, `off` its diagonal offset). A(i, p) = a[i*sam + p*sak] (a row-major A has
 *  sam = lda, sak = 1; a transposed one sam = 1, sak = lda); B row-major [k x n] with leading
 *  dimension ldb; C row-major with ldc. Each band of FLASH_MR rows runs full 4 x 16 blocks, then
 *  its right edge (a 4 x 8 block if wide enough, then the rest); the last rows run edge blocks. */
static void flash_gemm(const flash_kernels *kern, int mask, int64_t off, int64_t m, int64_t n,
                       int64_t k, float alpha, const float *a, int64_t sam, int64_t sak,
                       const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc) {
    const int64_t nr = kern->nr, half = nr / 2;
    int64_t i, j;
    for (i = 0; i < m; i += FLASH_MR) {
        const int64_t rows = m - i < FLASH_MR ? m - i : FLASH_MR;
        int64_t k0 = 0, k1 = k, cols = n, kk, nfull, nhalf;
        const float *ai, *bk;
        float *ci = c + i * ldc;
        if (mask == FLASH_MASK_C) {
            cols = i + rows + off; /* columns [0, cols) reach the diagonal of these rows */
            if (cols <= 0) continue;
            cols = (cols + nr - 1) / nr * nr; /* whole blocks are cheaper */
            if (cols > n) cols = n;
        } else if (mask == FLASH_MASK_K_UPPER) {
            k1 = i + rows + off < k ? i + rows + off : k;
        } else if (mask == FLASH_MASK_K_LOWER) {
            k0 = i - off > 0 ? i - off : 0;
        }
        kk = k1 > k0 ? k1 - k0 : 0; /* k = 0 still stores alpha * 0 (or leaves C) */
        ai = a + i * sam + (kk > 0 ? k0 * sak : 0);
        bk = b + (kk > 0 ? k0 * ldb : 0);
        if (rows < FLASH_MR) {
            for (j = 0; j < cols; j += nr)
                flash_block_any(rows, cols - j < nr ? cols - j : nr, kk, alpha, ai, sam, sak, bk + j,
                                ldb, accumulate, ci + j, ldc);
            continue;
        }
        nfull = cols - cols % nr;
        nhalf = cols - nfull >= half ? nfull + half : nfull;
        for (j = 0; j < nfull; j += nr)
            kern->full(kk, alpha, ai, sam, sak, bk + j, ldb, accumulate, ci + j, ldc);
        if (nhalf > nfull)
            kern->half(kk, alpha, ai, sam, sak, bk + nfull, ldb, accumulate, ci + nfull, ldc);
        if (cols > nhalf)
            flash_block_any(FLASH_MR, cols - nhalf, kk, alpha, ai, sam, sak, bk + nhalf, ldb,
                            accumulate, ci + nhalf, ldc);
    }
}

/** dst[d * ldd + t] = src[t * lds + d] for t < rows, d < dim: a [rows x dim] block transposed. */
static void flash_transpose(float *AGLM_RESTRICT dst, int64_t ldd, const float *AGLM_RESTRICT src,
                            int64_t lds, int64_t rows, int64_t dim) {
    int64_t t0, t, d;
    for (t0 = 0; t0 < rows; t0 += 16) {
        const int64_t t1 = t0 + 16 < rows ? t0 + 16 : rows;
        for (d = 0; d < dim; ++d)
            for (t = t0; t < t1; ++t) dst[d * ldd + t] = src[t * lds + d];
    }
}

/* ------------------------------------------------------------------------------------------- */
/* Problem description shared by the kernels                                                    */
/* ------------------------------------------------------------------------------------------- */

/** One [batch, heads, seq, dim] operand as the views give it: the first element and the strides
 *  (in elements) of batch, head and sequence; the dim stride is 1. Head (b, h) is then a
 *  [seq x dim] row-major matrix with leading dimension `st`. */
typedef struct flash_operand {
    float *data;
    int64_t sb, sh, st;
} flash_operand;

/** First element of head `h` of batch `b`. */
static float *flash_head(const flash_operand *x, int64_t b, int64_t h) {
    return x->data + b * x->sb + h * x->sh;
}

/** Shapes, tiling and pointers of one call; shared read-only by the parallel_for workers. */
typedef struct flash_job {
    int64_t batch, n_head, kv_heads, seq, dim;
    int64_t bq, bk;        /* tile sizes, clipped to seq */
    int64_t ldt;           /* leading dimension of the transposed K/V copies (padded seq) */
    int64_t nqb, nkb;      /* number of query and key blocks */
    float alpha;           /* scale * log2(e): S in base-2 units */
    float scale;           /* scale */
    const flash_kernels *kern; /* the plugin's tile kernels, NULL: host->sgemm */
    int bf16;              /* q, k, v came as bfloat16 (widened into `wide`): products on bf16 values */
    flash_operand q, k, v, o, dout; /* read only */
    flash_operand dout_r;  /* dout as the products read it: rounded to bfloat16 when bf16 */
    flash_operand out, dq, dk, dv;  /* written */
    float *lse2;           /* [batch, n_head, seq] or NULL (forward without backward) */
    const float *rope_cos, *rope_sin; /* [seq or more, dim / 2] tables, or NULL: no rotation */
    unsigned char *failed; /* one flag per work item: set when its scratch could not be allocated */
} flash_job;

/** Rows r0 .. r0 + n - 1 (positions) of src (leading dimension lds) turned by their angles
 *  (sign 1) or back (sign -1) into dst (ldd; dst may be src: each pair is read before it is
 *  written). Tables [positions, d / 2]. */
static void flash_rotate_rows(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t r0,
                              int64_t n, int64_t d, const float *cs, const float *sn, float sign) {
    const int64_t half = d / 2;
    int64_t r, i;
    for (r = 0; r < n; ++r) {
        const float *c = cs + (r0 + r) * half, *s = sn + (r0 + r) * half;
        const float *x = src + r * lds;
        float *y = dst + r * ldd;
        for (i = 0; i < half; ++i) {
            const float x1 = x[i], x2 = x[i + half], si = sign * s[i];
            y[i] = x1 * c[i] - x2 * si;
            y[i + half] = x2 * c[i] + x1 * si;
        }
    }
}

/** C[m x n] = alpha * A B (+ C when accumulate) with A row-major [m x k] (lda) or, when
 *  `a_trans`, stored transposed as [k x m] (lda); B row-major [k x n] (ldb). The plugin's GEMM
 *  skips what `mask` allows (off = r0 - c0 of the tile); the host's sgemm computes everything,
 *  which is the same result because the skipped terms are zero. */
static void flash_mm(const flash_job *job, int mask, int64_t off, int64_t m, int64_t n, int64_t k,
                     float alpha, const float *a, int a_trans, int64_t lda, const float *b,
                     int64_t ldb, int accumulate, float *c, int64_t ldc) {
    if (job->kern != NULL)
        flash_gemm(job->kern, mask, off, m, n, k, alpha, a, a_trans ? 1 : lda, a_trans ? lda : 1, b,
                   ldb, accumulate, c, ldc);
    else
        host->sgemm(a_trans, 0, m, n, k, alpha, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}

/** S[m x n] = alpha * A Bᵀ for a [query x key] tile with A row-major [m x k] (lda) and B
 *  row-major [n x k] (ldb); `bt` is the same B already transposed ([k x n], ldbt), which the
 *  plugin's GEMM needs. Entries above the diagonal (key > query) may be left unset. */
static void flash_mm_scores(const flash_job *job, int64_t off, int64_t m, int64_t n, int64_t k,
                            float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                            const float *bt, int64_t ldbt, float *c, int64_t ldc) {
    if (job->kern != NULL)
        flash_gemm(job->kern, FLASH_MASK_C, off, m, n, k, alpha, a, lda, 1, bt, ldbt, 0, c, ldc);
    else
        host->sgemm(0, 1, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc);
}

/** Query block that item t of a (batch, head) visits: 0, n-1, 1, n-2, ... so that every
 *  contiguous range of items holds a similar share of the (triangular) causal work. */
static int64_t flash_zigzag(int64_t t, int64_t n) { return (t & 1) == 0 ? t / 2 : n - 1 - t / 2; }

/** Columns c0 + [0, result) of a tile that row `row` may attend to (clamped to [0, bc]). */
static int64_t flash_valid(int64_t row, int64_t c0, int64_t bc) {
    const int64_t valid = row + 1 - c0;
    return valid < 0 ? 0 : valid > bc ? bc : valid;
}

/* ------------------------------------------------------------------------------------------- */
/* Forward                                                                                       */
/* ------------------------------------------------------------------------------------------- */

/** Items [begin, end) of the forward: item = (batch*head) * nqb + zig-zag query block. */
static void flash_forward_kernel(void *user, int64_t begin, int64_t end) {
    const flash_job *job = (const flash_job *)user;
    const int64_t T = job->seq, D = job->dim, bq = job->bq, bk = job->bk;
    const int64_t group = job->n_head / job->kv_heads;
    const int64_t kt_size = job->kern != NULL ? D * job->ldt : 0; /* K of the head transposed */
    const int rope = job->rope_cos != NULL;
    const int64_t rope_size = rope ? (bq + T) * D : 0; /* the rotated query tile and keys */
    float *scratch = (float *)malloc((size_t)(bq * bk + 3 * bq + kt_size + rope_size) * sizeof(float));
    float *S, *m, *l, *alpha, *Kt, *Qr, *Kr;
    int64_t item, kt_head = -1;
    if (scratch == NULL) {
        for (item = begin; item < end; ++item) job->failed[item] = 1;
        return;
    }
    S = scratch;
    m = S + bq * bk;
    l = m + bq;
    alpha = l + bq;
    Kt = job->kern != NULL ? alpha + bq : NULL;
    Qr = rope ? alpha + bq + kt_size : NULL;
    Kr = rope ? Qr + bq * D : NULL;
    for (item = begin; item < end; ++item) {
        const int64_t bh = item / job->nqb;
        const int64_t qb = flash_zigzag(item % job->nqb, job->nqb);
        const int64_t b = bh / job->n_head, h = bh % job->n_head;
        const int64_t kvh = b * job->kv_heads + h / group;
        const int64_t r0 = qb * bq, br = (r0 + bq <= T ? bq : T - r0);
        int64_t ldq = job->q.st, ldk = job->k.st;
        const int64_t ldv = job->v.st, ldo = job->out.st;
        const float *Q = flash_head(&job->q, b, h) + r0 * ldq;
        const float *K = flash_head(&job->k, b, h / group);
        const float *V = flash_head(&job->v, b, h / group);
        float *O = flash_head(&job->out, b, h) + r0 * ldo;
        const int64_t last_kb = (r0 + br - 1) / bk; /* later key blocks are fully masked */
        int64_t kb, r;
        if (rope) { /* rotated copies: the query tile now, the head's keys with the transpose */
            flash_rotate_rows(Qr, D, Q, ldq, r0, br, D, job->rope_cos, job->rope_sin, 1.0f);
            Q = Qr;
            ldq = D;
            if (kvh != kt_head) flash_rotate_rows(Kr, D, K, ldk, 0, T, D, job->rope_cos, job->rope_sin, 1.0f);
            K = Kr;
            ldk = D;
        }
        if (kvh != kt_head) { /* consecutive items mostly share the head */
            if (job->kern != NULL) flash_transpose(Kt, job->ldt, K, ldk, T, D);
            kt_head = kvh;
        }
        for (r = 0; r < br; ++r) {
            m[r] = -INFINITY;
            l[r] = 0.0f;
        }
        for (kb = 0; kb <= last_kb; ++kb) {
            const int64_t c0 = kb * bk, bc = (c0 + bk <= T ? bk : T - c0);
            /* S = alpha * Q_i K_j^T (base-2 logits) */
            flash_mm_scores(job, r0 - c0, br, bc, D, job->alpha, Q, ldq, K + c0 * ldk, ldk,
                            Kt != NULL ? Kt + c0 : NULL, job->ldt, S, bk);
            for (r = 0; r < br; ++r) {
                float *s = S + r * bk;
                const int64_t valid = flash_valid(r0 + r, c0, bc);
                float mx, m_new;
                if (valid == 0) { /* the whole row of this tile is masked */
                    memset(s, 0, (size_t)bc * sizeof(float));
                    alpha[r] = 1.0f;
                    continue;
                }
                mx = flash_row_max(s, valid);
                m_new = mx > m[r] ? mx : m[r];
                alpha[r] = flash_exp2(m[r] - m_new); /* 0 on the first block (m = -inf) */
                flash_exp2_row(s, valid, m_new);
                if (valid < bc) memset(s + valid, 0, (size_t)(bc - valid) * sizeof(float));
                l[r] = l[r] * alpha[r] + flash_row_sum(s, valid);
                m[r] = m_new;
                if (job->bf16) flash_round_row(s, s, valid); /* P V on bfloat16 P */
            }
            if (kb > 0)
                for (r = 0; r < br; ++r) flash_scale_row(O + r * ldo, D, alpha[r]);
            /* O_i = diag(alpha) O_i + P V_j (the first block overwrites O) */
            flash_mm(job, FLASH_MASK_K_UPPER, r0 - c0, br, D, bc, 1.0f, S, 0, bk, V + c0 * ldv, ldv,
                     kb > 0, O, ldo);
        }
        for (r = 0; r < br; ++r) {
            flash_scale_row(O + r * ldo, D, 1.0f / l[r]);
            if (job->lse2 != NULL) job->lse2[bh * T + r0 + r] = m[r] + log2f(l[r]);
        }
    }
    free(scratch);
}

/* ------------------------------------------------------------------------------------------- */
/* Backward                                                                                      */
/* ------------------------------------------------------------------------------------------- */

/** Items [begin, end) of the backward: item = batch * kv_heads + kv head; each item owns dK and
 *  dV of its kv head and dQ of its query heads. */
static void flash_backward_kernel(void *user, int64_t begin, int64_t end) {
    const flash_job *job = (const flash_job *)user;
    const int64_t T = job->seq, D = job->dim, bq = job->bq, bk = job->bk;
    const int64_t group = job->n_head / job->kv_heads;
    const int64_t t_size = job->kern != NULL ? D * job->ldt : 0; /* K and V of the head transposed */
    const int rope = job->rope_cos != NULL;
    const int64_t rope_size = rope ? 2 * T * D : 0; /* the rotated keys and queries of a head */
    const int64_t pr_size = job->bf16 ? bq * bk : 0; /* P rounded for P^T dO */
    float *scratch = (float *)malloc((size_t)(2 * bq * bk + T + 2 * t_size + rope_size + pr_size) * sizeof(float));
    float *P, *dS, *Dv, *Kt, *Vt, *Kr, *Qr, *Pr;
    int64_t item;
    if (scratch == NULL) {
        for (item = begin; item < end; ++item) job->failed[item] = 1;
        return;
    }
    P = scratch;
    dS = P + bq * bk;
    Dv = dS + bq * bk;
    Kt = job->kern != NULL ? Dv + T : NULL;
    Vt = job->kern != NULL ? Dv + T + t_size : NULL;
    Kr = rope ? Dv + T + 2 * t_size : NULL;
    Qr = rope ? Kr + T * D : NULL;
    Pr = job->bf16 ? Dv + T + 2 * t_size + rope_size : P;
    for (item = begin; item < end; ++item) {
        const int64_t b = item / job->kv_heads, kvh_local = item % job->kv_heads;
        const int64_t ldv = job->v.st, lddk = job->dk.st, lddv = job->dv.st;
        int64_t ldk = job->k.st;
        const float *K = flash_head(&job->k, b, kvh_local);
        const float *V = flash_head(&job->v, b, kvh_local);
        float *dK = flash_head(&job->dk, b, kvh_local);
        float *dV = flash_head(&job->dv, b, kvh_local);
        int64_t g;
        if (rope) {
            flash_rotate_rows(Kr, D, K, ldk, 0, T, D, job->rope_cos, job->rope_sin, 1.0f);
            K = Kr;
            ldk = D;
        }
        if (job->kern != NULL) {
            flash_transpose(Kt, job->ldt, K, ldk, T, D);
            flash_transpose(Vt, job->ldt, V, ldv, T, D);
        }
        for (g = 0; g < group; ++g) {
            const int64_t h = kvh_local * group + g, bh = b * job->n_head + h;
            const int64_t ldo = job->o.st, lddo = job->dout.st, lddq = job->dq.st;
            int64_t ldq = job->q.st;
            const float *Q = flash_head(&job->q, b, h);
            const float *O = flash_head(&job->o, b, h);
            const float *dO = flash_head(&job->dout, b, h);
            const float *dOr = flash_head(&job->dout_r, b, h); /* the products' dO */
            const int64_t lddr = job->dout_r.st;
            const float *lse2 = job->lse2 + bh * T;
            float *dQ = flash_head(&job->dq, b, h);
            int64_t t, kb;
            if (rope) {
                flash_rotate_rows(Qr, D, Q, ldq, 0, T, D, job->rope_cos, job->rope_sin, 1.0f);
                Q = Qr;
                ldq = D;
            }
            for (t = 0; t < T; ++t) Dv[t] = flash_dot(dO + t * lddo, O + t * ldo, D);
            for (kb = 0; kb < job->nkb; ++kb) {
                const int64_t c0 = kb * bk, bc = (c0 + bk <= T ? bk : T - c0);
                int64_t qb;
                for (qb = c0 / bq; qb < job->nqb; ++qb) { /* earlier query blocks are masked */
                    const int64_t r0 = qb * bq, br = (r0 + bq <= T ? bq : T - r0);
                    /* The first product into a block stores (every element, masked sums
                     * included), so the gradients need no zero-fill: dK_j and dV_j first meet
                     * the group's first head at the diagonal query block, dQ_i key block 0. */
                    const int first_kv = g == 0 && qb == c0 / bq, first_q = kb == 0;
                    int64_t r;
                    /* P = 2^(alpha * Q_i K_j^T - lse2), zero above the diagonal */
                    flash_mm_scores(job, r0 - c0, br, bc, D, job->alpha, Q + r0 * ldq, ldq,
                                    K + c0 * ldk, ldk, Kt != NULL ? Kt + c0 : NULL, job->ldt, P, bk);
                    for (r = 0; r < br; ++r) {
                        float *p = P + r * bk;
                        const int64_t valid = flash_valid(r0 + r, c0, bc);
                        flash_exp2_row(p, valid, lse2[r0 + r]);
                        if (valid < bc) memset(p + valid, 0, (size_t)(bc - valid) * sizeof(float));
                        if (job->bf16) flash_round_row(Pr + r * bk, p, bc);
                    }
                    /* dV_j += P^T dO_i */
                    flash_mm(job, FLASH_MASK_K_LOWER, r0 - c0, bc, D, br, 1.0f, Pr, 1, bk,
                             dOr + r0 * lddr, lddr, !first_kv, dV + c0 * lddv, lddv);
                    /* dP = dO_i V_j^T, then dS = P * (dP - D_i) in place */
                    flash_mm_scores(job, r0 - c0, br, bc, D, 1.0f, dOr + r0 * lddr, lddr, V + c0 * ldv,
                                    ldv, Vt != NULL ? Vt + c0 : NULL, job->ldt, dS, bk);
                    for (r = 0; r < br; ++r) {
                        float *ds = dS + r * bk;
                        const int64_t valid = flash_valid(r0 + r, c0, bc);
                        flash_ds_row(ds, P + r * bk, valid, Dv[r0 + r]);
                        if (valid < bc) memset(ds + valid, 0, (size_t)(bc - valid) * sizeof(float));
                        if (job->bf16) flash_round_row(ds, ds, valid);
                    }
                    /* dQ_i += scale * dS K_j;  dK_j += scale * dS^T Q_i */
                    flash_mm(job, FLASH_MASK_K_UPPER, r0 - c0, br, D, bc, job->scale, dS, 0, bk,
                             K + c0 * ldk, ldk, !first_q, dQ + r0 * lddq, lddq);
                    flash_mm(job, FLASH_MASK_K_LOWER, r0 - c0, bc, D, br, job->scale, dS, 1, bk,
                             Q + r0 * ldq, ldq, !first_kv, dK + c0 * lddk, lddk);
                }
            }
            /* dQ of this head is complete: from d(Rq) back to dq = R^T d(Rq) */
            if (rope) flash_rotate_rows(dQ, lddq, dQ, lddq, 0, T, D, job->rope_cos, job->rope_sin, -1.0f);
        }
        /* dK of this kv head is complete (all its query heads added) */
        if (rope) flash_rotate_rows(dK, lddk, dK, lddk, 0, T, D, job->rope_cos, job->rope_sin, -1.0f);
    }
    free(scratch);
}

/* ------------------------------------------------------------------------------------------- */
/* Validation                                                                                    */
/* ------------------------------------------------------------------------------------------- */

/** Checks that `v` is a [b, h, t, d] view of `code` elements (float32, or bfloat16 for q, k, v)
 *  with contiguous rows (any other strides: the component declares `strided` in its layout) and
 *  describes it in `op` (its `data` is then the first element, of either type). */
static aglm_status flash_check_typed(aglm_ctx *ctx, const aglm_view *v, const char *what,
                                     aglm_dtype_code code, int64_t b, int64_t h, int64_t t,
                                     int64_t d, flash_operand *op) {
    aglm_status st = aglm_check_row_view(host, ctx, v, what, code, 4);
    if (st != AGLM_OK) return st;
    if (v->shape[0] != b || v->shape[1] != h || v->shape[2] != t || v->shape[3] != d)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "%s: expected shape [%lld, %lld, %lld, %lld], got [%lld, %lld, %lld, %lld]",
                           what, (long long)b, (long long)h, (long long)t, (long long)d,
                           (long long)v->shape[0], (long long)v->shape[1], (long long)v->shape[2],
                           (long long)v->shape[3]);
    op->data = (float *)v->data;
    op->sb = v->strides[0];
    op->sh = v->strides[1];
    op->st = v->strides[2];
    return AGLM_OK;
}

/** flash_check_typed for a float32 view. */
static aglm_status flash_check(aglm_ctx *ctx, const aglm_view *v, const char *what, int64_t b,
                               int64_t h, int64_t t, int64_t d, flash_operand *op) {
    return flash_check_typed(ctx, v, what, AGLM_DTYPE_FLOAT, b, h, t, d, op);
}

/** x[i] widened from bfloat16 (exact). */
static inline float flash_widen(uint16_t x) {
    const uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/** Widens the bfloat16 q, k, v that flash_setup described in `job` into one dense float32
 *  buffer and points the job's operands at it. Returns the buffer (the caller frees it after the
 *  call), or NULL with the error set. */
static float *flash_widen_qkv(aglm_ctx *ctx, flash_job *job) {
    const int64_t B = job->batch, T = job->seq, D = job->dim;
    const int64_t heads[3] = {job->n_head, job->kv_heads, job->kv_heads};
    flash_operand *ops[3];
    float *wide = (float *)aglm_calloc(host, ctx, (size_t)(B * (heads[0] + heads[1] + heads[2]) * T * D) * sizeof(float));
    float *dst = wide;
    int64_t i, b, h, t, d;
    if (wide == NULL) return NULL;
    ops[0] = &job->q;
    ops[1] = &job->k;
    ops[2] = &job->v;
    for (i = 0; i < 3; ++i) {
        flash_operand *op = ops[i];
        const uint16_t *src = (const uint16_t *)(const void *)op->data;
        for (b = 0; b < B; ++b)
            for (h = 0; h < heads[i]; ++h)
                for (t = 0; t < T; ++t) {
                    const uint16_t *row = src + b * op->sb + h * op->sh + t * op->st;
                    float *out = dst + ((b * heads[i] + h) * T + t) * D;
                    for (d = 0; d < D; ++d) out[d] = flash_widen(row[d]);
                }
        op->data = dst;
        op->sb = heads[i] * T * D;
        op->sh = T * D;
        op->st = D;
        dst += B * heads[i] * T * D;
    }
    return wide;
}

/** Validates q, k, v (and, when given, the other views of the same shapes) and fills the
 *  shape and tiling part of `job`. */
static aglm_status flash_setup(const flash *self, aglm_ctx *ctx, const aglm_view *q,
                               const aglm_view *k, const aglm_view *v, flash_job *job) {
    /* q, k, v: float32, or all three bfloat16 (layout bf16) */
    const aglm_dtype_code code = q != NULL && q->dtype.code == AGLM_DTYPE_BFLOAT ? AGLM_DTYPE_BFLOAT : AGLM_DTYPE_FLOAT;
    aglm_status st = aglm_check_row_view(host, ctx, q, "q", code, 4);
    flash_operand oq, ok, ov;
    int64_t B, H, KV, T, D;
    if (st != AGLM_OK) return st;
    B = q->shape[0];
    H = q->shape[1];
    T = q->shape[2];
    D = q->shape[3];
    if (H != self->n_head || D != self->head_dim)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "q: expected %lld heads of %lld features, got [%lld, %lld, %lld, %lld]",
                           (long long)self->n_head, (long long)self->head_dim, (long long)B,
                           (long long)H, (long long)T, (long long)D);
    if ((st = aglm_check_row_view(host, ctx, k, "k", code, 4)) != AGLM_OK) return st;
    KV = k->shape[1];
    if (KV < 1 || H % KV != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "k has %lld heads, which does not divide the %lld query heads",
                           (long long)KV, (long long)H);
    if ((st = flash_check_typed(ctx, q, "q", code, B, H, T, D, &oq)) != AGLM_OK ||
        (st = flash_check_typed(ctx, k, "k", code, B, KV, T, D, &ok)) != AGLM_OK ||
        (st = flash_check_typed(ctx, v, "v", code, B, KV, T, D, &ov)) != AGLM_OK)
        return st;
    memset(job, 0, sizeof *job);
    job->batch = B;
    job->n_head = H;
    job->kv_heads = KV;
    job->seq = T;
    job->dim = D;
    job->bq = self->block_q < T ? self->block_q : T;
    job->bk = self->block_k < T ? self->block_k : T;
    if (job->bq < 1) job->bq = 1;
    if (job->bk < 1) job->bk = 1;
    /* The host's sgemm splits products above 2^18 multiply-adds over its workers; inside the
     * plugin's parallel_for workers that only nests (and once oversubscribed the cores, 3-5x
     * slower). So on that path the tiles shrink until every tile product (bq x bk x D
     * multiply-adds, the same for all five) stays below it: same results. */
    if (self->kern == NULL)
        while (job->bq * job->bk * D > FLASH_HOST_GEMM_MACS && (job->bq > 8 || job->bk > 8)) {
            if (job->bq >= job->bk)
                job->bq = (job->bq + 1) / 2;
            else
                job->bk = (job->bk + 1) / 2;
        }
    /* rows of the transposed copies: a multiple of 16 floats plus 16, so that successive rows
     * do not fall into the same few L1 sets (a 1 KiB stride uses only 4 of 64) */
    job->ldt = (T + 15) / 16 * 16 + 16;
    job->nqb = (T + job->bq - 1) / job->bq;
    job->nkb = (T + job->bk - 1) / job->bk;
    job->scale = self->scale;
    job->kern = self->kern;
    if (self->rope_cos != NULL) {
        if (T > self->rope_positions)
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "seq %lld is longer than the block_size %lld the rotary table was built for",
                               (long long)T, (long long)self->rope_positions);
        job->rope_cos = self->rope_cos;
        job->rope_sin = self->rope_sin;
    }
    job->alpha = (float)((double)self->scale * FLASH_LOG2E);
    job->q = oq;
    job->k = ok;
    job->v = ov;
    job->bf16 = code == AGLM_DTYPE_BFLOAT;
    return AGLM_OK;
}

/** Runs `fn` over `items` work items on the host's workers, each worth about `flops`; returns
 *  AGLM_ERR_OUT_OF_MEMORY (with a message) if a worker could not allocate its scratch. */
static aglm_status flash_run(aglm_ctx *ctx, flash_job *job, int64_t items, double flops,
                             aglm_parallel_fn fn) {
    /* Threads pay off from about a few hundred thousand flops per chunk. */
    const double min_flops = 4.0e5;
    int64_t min_chunk = flops > 0 ? (int64_t)ceil(min_flops / flops) : 1, i;
    aglm_status st = AGLM_OK;
    if (min_chunk < 1) min_chunk = 1;
    job->failed = (unsigned char *)aglm_calloc(host, ctx, (size_t)items);
    if (job->failed == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    host->parallel_for(items, min_chunk, fn, job);
    for (i = 0; i < items; ++i)
        if (job->failed[i]) {
            st = aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY,
                             "out of memory allocating the tile scratch (%lld x %lld tiles)",
                             (long long)job->bq, (long long)job->bk);
            break;
        }
    free(job->failed);
    job->failed = NULL;
    return st;
}

/* ------------------------------------------------------------------------------------------- */
/* Vtable                                                                                        */
/* ------------------------------------------------------------------------------------------- */

/** fused_forward: out = softmax_causal(scale q k^T) v; saves the row log-sum-exps if needed. */
static aglm_status flash_fused_forward(void *instance, aglm_ctx *ctx, const aglm_view *q,
                                       const aglm_view *k, const aglm_view *v, aglm_view *out,
                                       int32_t needs_backward, aglm_saved *saved) {
    const flash *self = (const flash *)instance;
    flash_saved *keep = NULL;
    flash_job job;
    aglm_status st;
    int64_t rows;
    float *wide = NULL;
    if (saved != NULL) *saved = NULL;
    if ((st = flash_setup(self, ctx, q, k, v, &job)) != AGLM_OK ||
        (st = flash_check(ctx, out, "out", job.batch, job.n_head, job.seq, job.dim, &job.out)) != AGLM_OK)
        return st;
    rows = job.batch * job.n_head * job.seq;
    if (rows == 0 || job.dim == 0) return AGLM_OK;
    if (needs_backward) {
        if (saved == NULL)
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "needs_backward is set but there is no slot for the saved state");
        keep = (flash_saved *)aglm_calloc(host, ctx, sizeof *keep + (size_t)rows * sizeof(float));
        if (keep == NULL) return AGLM_ERR_OUT_OF_MEMORY;
        keep->batch = job.batch;
        keep->n_head = job.n_head;
        keep->seq = job.seq;
        job.lse2 = keep->lse2;
    }
    if (job.bf16 && (wide = flash_widen_qkv(ctx, &job)) == NULL) {
        free(keep);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    /* per item: about half of the key blocks, two GEMMs of 2 * bq * bk * D flops each */
    st = flash_run(ctx, &job, job.batch * job.n_head * job.nqb,
                   2.0 * (double)job.bq * (double)job.seq * (double)job.dim,
                   flash_forward_kernel);
    free(wide);
    if (st != AGLM_OK) {
        free(keep);
        return st;
    }
    if (keep != NULL) *saved = keep;
    return AGLM_OK;
}

/** fused_backward: dq, dk, dv from q, k, v, out, dout and the saved row log-sum-exps. */
static aglm_status flash_fused_backward(void *instance, aglm_ctx *ctx, aglm_saved saved,
                                        const aglm_view *q, const aglm_view *k, const aglm_view *v,
                                        const aglm_view *out, const aglm_view *dout, aglm_view *dq,
                                        aglm_view *dk, aglm_view *dv) {
    const flash *self = (const flash *)instance;
    const flash_saved *keep = (const flash_saved *)saved;
    flash_job job;
    aglm_status st;
    int64_t B, H, KV, T, D;
    if ((st = flash_setup(self, ctx, q, k, v, &job)) != AGLM_OK) return st;
    B = job.batch;
    H = job.n_head;
    KV = job.kv_heads;
    T = job.seq;
    D = job.dim;
    if ((st = flash_check(ctx, out, "out", B, H, T, D, &job.o)) != AGLM_OK ||
        (st = flash_check(ctx, dout, "dout", B, H, T, D, &job.dout)) != AGLM_OK ||
        (st = flash_check(ctx, dq, "dq", B, H, T, D, &job.dq)) != AGLM_OK ||
        (st = flash_check(ctx, dk, "dk", B, KV, T, D, &job.dk)) != AGLM_OK ||
        (st = flash_check(ctx, dv, "dv", B, KV, T, D, &job.dv)) != AGLM_OK)
        return st;
    if (B * H * T == 0 || D == 0) return AGLM_OK;
    if (keep == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no saved state: the forward ran without needs_backward");
    if (keep->batch != B || keep->n_head != H || keep->seq != T)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "saved state is for [%lld, %lld, %lld] rows, the backward got [%lld, %lld, %lld]",
                           (long long)keep->batch, (long long)keep->n_head, (long long)keep->seq,
                           (long long)B, (long long)H, (long long)T);
    job.lse2 = (float *)keep->lse2; /* read only in the backward */
    job.dout_r = job.dout;
    if (job.bf16) {
        /* the products' dO, rounded to bfloat16 once: dense [B, H, T, D] after q, k, v */
        const int64_t n = B * H * T * D, qkv = B * (H + 2 * KV) * T * D;
        float *wide = flash_widen_qkv(ctx, &job), *rounded;
        int64_t b, h, t;
        if (wide == NULL) return AGLM_ERR_OUT_OF_MEMORY;
        rounded = (float *)realloc(wide, (size_t)(qkv + n) * sizeof(float));
        if (rounded == NULL) {
            free(wide);
            return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory rounding dout to bfloat16");
        }
        job.q.data = rounded; /* realloc may have moved the widened q, k, v */
        job.k.data = rounded + B * H * T * D;
        job.v.data = job.k.data + B * KV * T * D;
        for (b = 0; b < B; ++b)
            for (h = 0; h < H; ++h)
                for (t = 0; t < T; ++t)
                    flash_round_row(rounded + qkv + ((b * H + h) * T + t) * D, flash_head(&job.dout, b, h) + t * job.dout.st, D);
        job.dout_r.data = rounded + qkv;
        job.dout_r.sb = H * T * D;
        job.dout_r.sh = T * D;
        job.dout_r.st = D;
        st = flash_run(ctx, &job, B * KV, 5.0 * (double)(H / KV) * (double)T * (double)T * (double)D,
                       flash_backward_kernel);
        free(rounded);
        return st;
    }
    /* per item: group heads, about T^2 / 2 keys, five GEMMs of 2 * D flops per entry */
    return flash_run(ctx, &job, B * KV,
                     5.0 * (double)(H / KV) * (double)T * (double)T * (double)D,
                     flash_backward_kernel);
}

/** free_saved: frees the row log-sum-exps (any thread). */
static void flash_free_saved(void *instance, aglm_saved saved) {
    (void)instance;
    free(saved);
}

/** destroy: frees the instance and its rotary tables. */
static void flash_destroy(void *instance) {
    flash *self = (flash *)instance;
    if (self == NULL) return;
    free(self->rope_cos);
    free(self);
}

/** Builds the rotary cos/sin tables [positions, head_dim / 2] (angles in double, rounded once,
 *  as host->rotary does). Returns 0 when out of memory (message set). */
static int flash_build_rope(flash *self, aglm_ctx *ctx, double base, int64_t positions) {
    const int64_t half = self->head_dim / 2;
    int64_t p, i;
    self->rope_cos = (float *)aglm_calloc(host, ctx, (size_t)(2 * positions * half) * sizeof(float));
    if (self->rope_cos == NULL) return 0;
    self->rope_sin = self->rope_cos + positions * half;
    self->rope_base = base;
    self->rope_positions = positions;
    for (p = 0; p < positions; ++p)
        for (i = 0; i < half; ++i) {
            const double angle = (double)p * pow(base, -2.0 * (double)i / (double)(2 * half));
            self->rope_cos[p * half + i] = (float)cos(angle);
            self->rope_sin[p * half + i] = (float)sin(angle);
        }
    return 1;
}

/** decode: the new positions against the host's cache (keys stored rotated with rope_base). */
static aglm_status flash_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const flash *self = (const flash *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = self->n_head;
    o.kv_heads = self->kv_heads;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    o.rope_base = self->rope_base;
    return aglm_decode(host, ctx, args, &o);
}

/** create: resolves the scale and tiles, and sets the kv-head layout. */
static aglm_status flash_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    aglm_attention_layout *lay = (aglm_attention_layout *)layout;
    double scale = aglm_param_f64(host, params, "scale");
    int64_t kv = aglm_param_i64(host, params, "kv_heads");
    int64_t bq = aglm_param_i64(host, params, "block_q"), bk = aglm_param_i64(host, params, "block_k");
    const char *gemm = aglm_param_str(host, params, "gemm");
    const double rope_base = aglm_param_f64(host, params, "rope_base");
    flash *self;
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1 || ai->n_head < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim)");
    if (kv == 0) kv = ai->n_head;
    if (kv < 1 || kv > ai->n_head || ai->n_head % kv != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "kv_heads = %lld must divide n_head = %lld", (long long)kv,
                           (long long)ai->n_head);
    if (rope_base > 0.0 && (ai->head_dim % 2 != 0 || !AGLM_HAS_FIELD(ai, aglm_attention_info, block_size) ||
                            ai->block_size < 1))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "rope_base > 0 needs an even head_dim (got %lld) and the block size: rotary "
                           "embeddings turn pairs of features",
                           (long long)ai->head_dim);
    if (!AGLM_HAS_FIELD(lay, aglm_attention_layout, kv_heads))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "missing attention layout");
    /* every view is read through its strides, and out, dq, dk, dv are written in full */
    if (AGLM_HAS_FIELD(lay, aglm_attention_layout, strided)) lay->strided = 1;
    /* q, k, v may be bfloat16 (widened, products on bfloat16 values: see the file comment) */
    if (AGLM_HAS_FIELD(lay, aglm_attention_layout, bf16)) lay->bf16 = 1;
    self = (flash *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->n_head = ai->n_head;
    self->kv_heads = kv;
    self->head_dim = ai->head_dim;
    self->block_q = bq;
    self->block_k = bk;
    self->scale = (float)(scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim));
    self->kern = strcmp(gemm, "host") == 0 ? NULL : flash_kernels_for_cpu(strcmp(gemm, "plugin_avx2") != 0);
    if (self->kern == NULL && strcmp(gemm, "host") != 0 && strcmp(gemm, "auto") != 0) {
        free(self);
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "gemm = %s needs a CPU with AVX2 and FMA, which this one lacks: use auto or host", gemm);
    }
    lay->kv_heads = kv;
    if (rope_base > 0.0 && !flash_build_rope(self, ctx, rope_base, ai->block_size)) {
        flash_destroy(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    *instance = self;
    return AGLM_OK;
}

/** The attention vtable (static: the host keeps the pointer). Path (b): fused. */
static const aglm_attention_vtable flash_vtable = {
    sizeof(aglm_attention_vtable), NULL, flash_fused_forward, flash_fused_backward,
    flash_free_saved, flash_decode,
};

/** init: registers the "flash" attention. */
static aglm_status flash_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "flash",
                       "fused tiled causal attention (FlashAttention-2: online softmax, recomputing backward)",
                       "1.0.0", AGLM_SCHEMA(flash_params), flash_create, flash_destroy,
                       &flash_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-flash", "1.0.0", flash_init);
