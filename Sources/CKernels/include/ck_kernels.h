/*
 * ck_kernels.h — the parts of the host's tensor engine written in C.
 *
 * Internal to the host (not part of the plugin ABI in include/autoglm/). The element kernels
 * are loops where Swift's SIMD types compile poorly (the 8-lane polynomials are split into 4-lane
 * halves with spills); in C the compiler vectorises them, once per kernel path (baseline x86-64,
 * AVX2+FMA, AVX-512), and the path is chosen at run time (ck_kernels_for). They are pure and
 * thread-safe on caller-owned memory; callers split work across threads by giving disjoint
 * ranges. The worker pool that runs those threads is here too (C11 atomics), and the bfloat16
 * rounding and GEMM of train.precision bf16.
 */
#ifndef CK_KERNELS_H
#define CK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----- instruction sets (cpu.c) ---------------------------------------------------------- */

/** The kernel paths, in increasing order (each level includes the ones below it). */
typedef enum ck_isa {
    CK_ISA_BASELINE = 0,   /**< portable C as compiled for baseline x86-64 (SSE2) or the target */
    CK_ISA_AVX2 = 1,       /**< AVX2 + FMA (Haswell, Zen 1 and later) */
    CK_ISA_AVX512 = 2,     /**< AVX-512 F, BW, DQ and VL (Skylake-SP, Zen 4 and later) */
    CK_ISA_AVX512_BF16 = 3 /**< AVX-512 with AVX512-BF16: vdpbf16ps, vcvtne2ps2bf16 */
} ck_isa;

/** The highest path this CPU and OS support: cpuid (through the compiler's
 *  __builtin_cpu_supports, which also checks that the OS saves the vector registers), probed
 *  once on first call. Thread-safe. */
ck_isa ck_cpu_isa(void);

/** 1 when this CPU's vdpbf16ps multiplies bf16 pairs faster than AVX-512 FMAs multiply
 *  float32 (AMD Zen 4 and later), 0 otherwise (Intel's AVX512-BF16 cores before AMX run it at
 *  half the FMA rate; no AVX512-BF16 at all). */
int ck_cpu_bf16_dot_is_fast(void);

/** "baseline", "avx2", "avx512" or "avx512_bf16". */
const char *ck_isa_name(ck_isa isa);

/** The element kernels of one path (all pure, thread-safe on caller-owned memory). */
typedef struct ck_kernel_table {
    /** The path these kernels were compiled for. */
    ck_isa isa;
    /** y[i] = GELU(x[i]) = x[i]·Φ(x[i]) for i < n (the exact erf form; Φ with relative error
     *  about 3e-7 everywhere, including the left tail). `y` may equal `x`. */
    void (*gelu)(const float *x, float *y, size_t n);
    /** gelu that also stores slope[i] = GELU'(x[i]) = Φ(x[i]) + x[i]·φ(x[i]) (sharing Φ and the
     *  exponential with the value: the backward is then dx = g·slope). `y` may equal `x`;
     *  `slope` must not alias either. */
    void (*gelu_with_slope)(const float *x, float *y, float *slope, size_t n);
    /** Σ x[i]² for i < n: float sums in 16 lanes over blocks of 1024 elements, each block added
     *  to a double total (accurate for the gradient norm of millions of elements). The order of
     *  operations depends only on n (the AVX2 and AVX-512 paths agree bit for bit; baseline,
     *  without FMA, rounds each square before adding it). */
    double (*sum_squares)(const float *x, size_t n);
    /** y[i] = x[i] rounded to bfloat16 (as ck_bf16_from_float_portable) and widened back: the
     *  emulated rounding. `y` may equal `x`. */
    void (*bf16_round)(const float *x, float *y, size_t n);
    /** y[i] = bfloat16(x[i]) for i < n, bit for bit ck_bf16_from_float_portable:
     *  vcvtne2ps2bf16 on AVX512-BF16 (ck_bf16_from_float_native), else the path's vectorised
     *  integer rounding (kernels_impl.h). */
    void (*bf16_from_float)(const float *x, uint16_t *y, size_t n);
} ck_kernel_table;

/** The kernels of `isa`, or of the highest path below it that this CPU supports. */
const ck_kernel_table *ck_kernels_for(ck_isa isa);

/** Makes OpenBLAS use the kernels of `isa` (SkylakeX for the AVX-512 paths, Haswell for AVX2,
 *  Prescott for baseline) unless OPENBLAS_CORETYPE is set or OpenBLAS already runs kernels of
 *  that level, through OpenBLAS's own core selection (gotoblas_dynamic_init). Returns the core
 *  name in use. Call only while no BLAS call runs (once, before the first GEMM). */
const char *ck_blas_select_core(ck_isa isa);

/* ----- worker pools (pool.c) ------------------------------------------------------------ */

/** A task of a parallel region: `task` is in [0, tasks). */
typedef void (*ck_task_fn)(void *ctx, int64_t task);

/** A worker pool: the calling thread plus up to `threads - 1` workers (started on first use;
 *  idle ones spin about 2 ms, then sleep). Each training session owns one, so two sessions on
 *  two threads never share workers (and each runs exactly as it would alone). */
typedef struct ck_pool ck_pool;

/** A pool that runs regions on `threads` threads (clamped to 1...256). NULL when out of memory. */
ck_pool *ck_pool_create(int threads);

/** Stops and joins the workers and frees the pool. No region may be running on it. */
void ck_pool_destroy(ck_pool *pool);

/** Threads a region of `pool` runs on (the caller included). */
int ck_pool_threads(const ck_pool *pool);

/** Changes the threads of later regions (clamped to 1...256; workers are started as needed and
 *  surplus ones stay idle). Not while a region of the pool runs. */
void ck_pool_set_threads(ck_pool *pool, int threads);

/** The kernel path of `pool`'s regions (default: ck_cpu_isa()). */
ck_isa ck_pool_isa(const ck_pool *pool);

/** Sets the kernel path of `pool` (clamped to what the CPU supports). Not while a region of the
 *  pool runs. */
void ck_pool_set_isa(ck_pool *pool, ck_isa isa);

/** The pool regions started on this thread run on: the one set with ck_pool_set_current, else
 *  NULL (the caller then uses its process-wide default). */
ck_pool *ck_pool_current(void);

/** Makes `pool` (or NULL) this thread's current pool; returns the previous one. */
ck_pool *ck_pool_set_current(ck_pool *pool);

/** Runs fn(ctx, 0..<tasks) on the calling thread and the pool's workers and returns when every
 *  task has finished (tasks are claimed dynamically). Tasks run inline, one after another, when
 *  the pool has one thread or `tasks` is 1, when there are more than 65535 tasks, when called
 *  from inside a task (nested parallel loops), or while another thread's region is running on
 *  the same pool. Thread-safe; `fn` must not unwind. */
void ck_pool_run(ck_pool *pool, int64_t tasks, ck_task_fn fn, void *ctx);

/* ----- bfloat16 (bf16.c) ---------------------------------------------------------------- */

/** Columns of op(B) per packed strip of the bf16 GEMM. */
#define CK_BF16_NR 32

/** y[i] = bfloat16(x[i]), round to nearest even, denormals to signed zero, NaN quiet: exactly
 *  vcvtne2ps2bf16's results, in portable C. */
void ck_bf16_from_float_portable(const float *x, uint16_t *y, size_t n);

/** ck_bf16_from_float_portable with vcvtne2ps2bf16 (AVX512-BF16 only). */
void ck_bf16_from_float_native(const float *x, uint16_t *y, size_t n);

/** y[i] = float32(x[i]) (exact). */
void ck_bf16_to_float(const uint16_t *x, float *y, size_t n);

/** uint16 elements of op(B) [k x n] packed for ck_bf16_gemm_panel. */
size_t ck_bf16_packed_b_count(int64_t k, int64_t n);

/** Packs strips [strip_begin, strip_end) (CK_BF16_NR columns each) of op(B), where
 *  op(B)(p, j) = b[p*rsb + j*csb], rounded to bfloat16, into `packed` (ck_bf16_packed_b_count
 *  elements for the whole matrix; disjoint strips may be packed by different threads). */
void ck_bf16_pack_b(const float *b, int64_t rsb, int64_t csb, int64_t k, int64_t n, int64_t strip_begin,
                    int64_t strip_end, uint16_t *packed);

/** C[m x n] = alpha * op(A) op(B) (+ C when `accumulate`), with op(A)(i, p) = a[i*rsa + p*csa]
 *  rounded to bfloat16 here and op(B) packed by ck_bf16_pack_b, starting at strip `strip0`,
 *  float32 accumulation with vdpbf16ps (AVX512-BF16 only). Returns 0, or -1 when out of memory
 *  (C then unchanged or partly updated). */
int ck_bf16_gemm_panel(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t rsa, int64_t csa,
                       const uint16_t *packed_b, int64_t strip0, float *c, int64_t ldc, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
