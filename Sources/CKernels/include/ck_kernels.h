/*
 * ck_kernels.h — the parts of the host's tensor engine written in C.
 *
 * Internal to the host (not part of the plugin ABI in include/autoglm/). The element kernels
 * are loops where Swift's SIMD types compile poorly (the 8-lane polynomials are split into 4-lane
 * halves with spills); in C the compiler vectorises them to full AVX2 registers with FMA. They
 * are pure and thread-safe on caller-owned memory; callers split work across threads by giving
 * disjoint ranges. The worker pool that runs those threads is here too (C11 atomics).
 */
#ifndef CK_KERNELS_H
#define CK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** y[i] = GELU(x[i]) = x[i]·Φ(x[i]) for i < n (the exact erf form; Φ with relative error about
 *  3e-7 everywhere, including the left tail). `y` may equal `x`. */
void ck_gelu(const float *x, float *y, size_t n);

/** ck_gelu that also stores slope[i] = GELU'(x[i]) = Φ(x[i]) + x[i]·φ(x[i]) (sharing Φ and the
 *  exponential with the value: the backward is then dx = g·slope). `y` may equal `x`; `slope`
 *  must not alias either. */
void ck_gelu_with_slope(const float *x, float *y, float *slope, size_t n);

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

/** Σ x[i]² for i < n: float sums in 16 lanes over blocks of 1024 elements, each block added to a
 *  double total (accurate for the gradient norm of millions of elements, and vectorised). The
 *  order of operations depends only on n, so the result is reproducible. */
double ck_sum_squares(const float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif
