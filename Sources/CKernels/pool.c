/*
 * pool.c — the host's worker pools: one parallel region at a time per pool, tasks claimed by the
 * caller and by `threads - 1` workers that spin briefly between regions before they sleep.
 *
 * Why not Dispatch's concurrentPerform: its idle workers sleep at once, and waking one takes
 * longer (tens of microseconds) than many of a training step's kernels and GEMM panels run, so
 * small regions ran serially plus the wake-up. Here a worker that finished a region spins for
 * up to CK_POOL_SPIN_NS watching for the next one (a step launches about a hundred regions
 * back to back), and only then sleeps on a condition variable. OpenBLAS runs single-threaded,
 * so these are the only compute threads.
 *
 * Why several pools: each training session owns one and makes it current on the thread that
 * drives it (ck_pool_set_current), so two sessions trained on two threads at once each get
 * their own workers and split their work exactly as they would alone (a region that finds its
 * pool busy runs inline, which would change how reductions are chunked).
 *
 * Protocol. A region is published as one 64-bit ticket: generation (32 bits) | task count (16)
 * | next unclaimed task (16). Claiming a task is a compare-and-swap of the ticket, which only
 * succeeds while that region still has that task unclaimed; so the region's function and
 * context (written before the ticket is published) are stable for whoever holds a task, and a
 * late worker can never run a task of a finished region. The caller claims tasks too and
 * returns once `done` reaches the count. A task that starts a region itself (a nested
 * parallel loop), or a second thread starting one while a region runs, runs its tasks inline.
 */
#include "ck_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/** How long an idle worker watches for the next region before it sleeps (2 ms: with 0.2 ms
 *  the caller waited measurably longer for workers woken from sleep). */
#define CK_POOL_SPIN_NS 2000000
/** Largest number of threads of a pool (the caller and 255 workers). */
#define CK_POOL_MAX_THREADS 256
/** Largest number of tasks per region (the ticket holds 16-bit counts); more run inline. */
#define CK_POOL_MAX_TASKS 0xFFFF

struct ck_pool {
    _Atomic uint64_t ticket;          /* generation | count | next */
    _Atomic int64_t done;             /* tasks of the current region finished */
    _Atomic int sleepers;             /* workers blocked on wake */
    _Atomic int stopping;             /* set by ck_pool_destroy */
    ck_task_fn fn;                    /* the current region (stable while it has tasks) */
    void *ctx;
    uint32_t generation;              /* last published generation (caller side) */
    int threads;                      /* threads a region runs on */
    ck_isa isa;                       /* the kernel path of its regions */
    int workers;                      /* workers started */
    pthread_t handles[CK_POOL_MAX_THREADS - 1];
    pthread_mutex_t run_lock;         /* one region at a time */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
};

static _Thread_local int ck_in_task;        /* this thread is running a task */
static _Thread_local ck_pool *ck_current;   /* this thread's pool (ck_pool_set_current) */

static uint64_t ck_pack(uint32_t generation, uint64_t count, uint64_t next) {
    return ((uint64_t)generation << 32) | (count << 16) | next;
}

static uint64_t ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void ck_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int ck_clamp_threads(int threads) {
    return threads < 1 ? 1 : threads > CK_POOL_MAX_THREADS ? CK_POOL_MAX_THREADS : threads;
}

/** Claims and runs tasks of the region in `ticket` (as loaded) until none is left. */
static void ck_run_tasks(ck_pool *pool, uint64_t ticket) {
    const uint64_t generation = ticket >> 32;
    while ((ticket >> 32) == generation) {
        const uint64_t count = (ticket >> 16) & 0xFFFF, next = ticket & 0xFFFF;
        if (next >= count) return;
        /* on failure `ticket` is reloaded: the same region with a later task, or a new region */
        if (atomic_compare_exchange_weak_explicit(&pool->ticket, &ticket, ticket + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            ck_in_task = 1;
            pool->fn(pool->ctx, (int64_t)next);
            ck_in_task = 0;
            atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
            ticket = atomic_load_explicit(&pool->ticket, memory_order_acquire);
        }
    }
}

static void *ck_worker(void *arg) {
    ck_pool *pool = arg;
    uint32_t seen = 0;
    ck_current = pool; /* kernels run in its tasks read the pool's path */
    for (;;) {
        uint64_t ticket = atomic_load_explicit(&pool->ticket, memory_order_acquire);
        if ((uint32_t)(ticket >> 32) == seen) {
            /* idle: spin a while, then sleep until a new generation is published or the pool stops */
            const uint64_t start = ck_now_ns();
            int spins = 0;
            while ((uint32_t)((ticket = atomic_load_explicit(&pool->ticket, memory_order_acquire)) >> 32) == seen) {
                if (atomic_load(&pool->stopping)) return NULL;
                ck_cpu_relax();
                if (++spins % 64 == 0 && ck_now_ns() - start > CK_POOL_SPIN_NS) {
                    pthread_mutex_lock(&pool->sleep_lock);
                    atomic_fetch_add(&pool->sleepers, 1);
                    while ((uint32_t)(atomic_load(&pool->ticket) >> 32) == seen && !atomic_load(&pool->stopping)) {
                        pthread_cond_wait(&pool->wake, &pool->sleep_lock);
                    }
                    atomic_fetch_sub(&pool->sleepers, 1);
                    pthread_mutex_unlock(&pool->sleep_lock);
                }
            }
        }
        seen = (uint32_t)(ticket >> 32);
        ck_run_tasks(pool, ticket);
    }
}

ck_pool *ck_pool_create(int threads) {
    ck_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->threads = ck_clamp_threads(threads);
    pool->isa = ck_cpu_isa();
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->sleep_lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    return pool;
}

void ck_pool_destroy(ck_pool *pool) {
    int i;
    if (pool == NULL) return;
    pthread_mutex_lock(&pool->sleep_lock);
    atomic_store(&pool->stopping, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->sleep_lock);
    for (i = 0; i < pool->workers; ++i) pthread_join(pool->handles[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->sleep_lock);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool);
}

int ck_pool_threads(const ck_pool *pool) { return pool->threads; }

void ck_pool_set_threads(ck_pool *pool, int threads) { pool->threads = ck_clamp_threads(threads); }

ck_isa ck_pool_isa(const ck_pool *pool) { return pool->isa; }

void ck_pool_set_isa(ck_pool *pool, ck_isa isa) { pool->isa = isa > ck_cpu_isa() ? ck_cpu_isa() : isa; }

ck_pool *ck_pool_current(void) { return ck_current; }

ck_pool *ck_pool_set_current(ck_pool *pool) {
    ck_pool *previous = ck_current;
    ck_current = pool;
    return previous;
}

void ck_pool_run(ck_pool *pool, int64_t tasks, ck_task_fn fn, void *ctx) {
    int64_t t;
    if (tasks <= 0) return;
    if (tasks == 1 || tasks > CK_POOL_MAX_TASKS || pool->threads <= 1 || ck_in_task ||
        pthread_mutex_trylock(&pool->run_lock) != 0) {
        for (t = 0; t < tasks; ++t) fn(ctx, t);
        return;
    }
    while (pool->workers < pool->threads - 1) {
        if (pthread_create(&pool->handles[pool->workers], NULL, ck_worker, pool) != 0) {
            break; /* run with the workers there are (the caller alone if none) */
        }
        ++pool->workers;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    ++pool->generation;
    if (pool->generation == 0) pool->generation = 1; /* workers start having seen generation 0 */
    atomic_store(&pool->ticket, ck_pack(pool->generation, (uint64_t)tasks, 0));
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->sleep_lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->sleep_lock);
    }
    ck_run_tasks(pool, atomic_load_explicit(&pool->ticket, memory_order_acquire));
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < tasks) ck_cpu_relax();
    pthread_mutex_unlock(&pool->run_lock);
}
