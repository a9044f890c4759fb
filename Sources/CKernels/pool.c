/*
 * pool.c — the host's worker pool: one parallel region at a time, tasks claimed by the caller
 * and by `threads - 1` workers that spin briefly between regions before they sleep.
 *
 * Why not Dispatch's concurrentPerform: its idle workers sleep at once, and waking one takes
 * longer (tens of microseconds) than many of a training step's kernels and GEMM panels run, so
 * small regions ran serially plus the wake-up. Here a worker that finished a region spins for
 * up to CK_POOL_SPIN_NS watching for the next one (a step launches about a hundred regions
 * back to back), and only then sleeps on a condition variable. OpenBLAS runs single-threaded,
 * so these are the only compute threads.
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
#include <time.h>

/** How long an idle worker watches for the next region before it sleeps (2 ms: with 0.2 ms
 *  the caller waited measurably longer for workers woken from sleep). */
#define CK_POOL_SPIN_NS 2000000
/** Largest number of workers started. */
#define CK_POOL_MAX_WORKERS 255
/** Largest number of tasks per region (the ticket holds 16-bit counts); more run inline. */
#define CK_POOL_MAX_TASKS 0xFFFF

static _Atomic uint64_t ck_ticket;          /* generation | count | next */
static _Atomic int64_t ck_done;             /* tasks of the current region finished */
static _Atomic int ck_sleepers;             /* workers blocked on ck_wake */
static ck_task_fn ck_fn;                    /* the current region (stable while it has tasks) */
static void *ck_ctx;
static uint32_t ck_generation;              /* last published generation (caller side) */
static int ck_workers;                      /* workers started */
static pthread_mutex_t ck_run_lock = PTHREAD_MUTEX_INITIALIZER;   /* one region at a time */
static pthread_mutex_t ck_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ck_wake = PTHREAD_COND_INITIALIZER;
static _Thread_local int ck_in_task;        /* this thread is running a task */

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

/** Claims and runs tasks of the region in `ticket` (as loaded) until none is left. */
static void ck_run_tasks(uint64_t ticket) {
    const uint64_t generation = ticket >> 32;
    while ((ticket >> 32) == generation) {
        const uint64_t count = (ticket >> 16) & 0xFFFF, next = ticket & 0xFFFF;
        if (next >= count) return;
        /* on failure `ticket` is reloaded: the same region with a later task, or a new region */
        if (atomic_compare_exchange_weak_explicit(&ck_ticket, &ticket, ticket + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            ck_in_task = 1;
            ck_fn(ck_ctx, (int64_t)next);
            ck_in_task = 0;
            atomic_fetch_add_explicit(&ck_done, 1, memory_order_release);
            ticket = atomic_load_explicit(&ck_ticket, memory_order_acquire);
        }
    }
}

static void *ck_worker(void *unused) {
    uint32_t seen = 0;
    (void)unused;
    for (;;) {
        uint64_t ticket = atomic_load_explicit(&ck_ticket, memory_order_acquire);
        if ((uint32_t)(ticket >> 32) == seen) {
            /* idle: spin a while, then sleep until a new generation is published */
            const uint64_t start = ck_now_ns();
            int spins = 0;
            while ((uint32_t)((ticket = atomic_load_explicit(&ck_ticket, memory_order_acquire)) >> 32) == seen) {
                ck_cpu_relax();
                if (++spins % 64 == 0 && ck_now_ns() - start > CK_POOL_SPIN_NS) {
                    pthread_mutex_lock(&ck_sleep_lock);
                    atomic_fetch_add(&ck_sleepers, 1);
                    while ((uint32_t)(atomic_load(&ck_ticket) >> 32) == seen) pthread_cond_wait(&ck_wake, &ck_sleep_lock);
                    atomic_fetch_sub(&ck_sleepers, 1);
                    pthread_mutex_unlock(&ck_sleep_lock);
                }
            }
        }
        seen = (uint32_t)(ticket >> 32);
        ck_run_tasks(ticket);
    }
    return NULL;
}

void ck_pool_run(int64_t tasks, int threads, ck_task_fn fn, void *ctx) {
    int64_t t;
    int want;
    if (tasks <= 0) return;
    if (tasks == 1 || tasks > CK_POOL_MAX_TASKS || threads <= 1 || ck_in_task ||
        pthread_mutex_trylock(&ck_run_lock) != 0) {
        for (t = 0; t < tasks; ++t) fn(ctx, t);
        return;
    }
    want = threads - 1 < CK_POOL_MAX_WORKERS ? threads - 1 : CK_POOL_MAX_WORKERS;
    while (ck_workers < want) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attr, ck_worker, NULL) != 0) {
            pthread_attr_destroy(&attr);
            break; /* run with the workers there are (the caller alone if none) */
        }
        pthread_attr_destroy(&attr);
        ++ck_workers;
    }
    ck_fn = fn;
    ck_ctx = ctx;
    atomic_store_explicit(&ck_done, 0, memory_order_relaxed);
    ++ck_generation;
    if (ck_generation == 0) ck_generation = 1; /* workers start having seen generation 0 */
    atomic_store(&ck_ticket, ck_pack(ck_generation, (uint64_t)tasks, 0));
    if (atomic_load(&ck_sleepers) > 0) {
        pthread_mutex_lock(&ck_sleep_lock);
        pthread_cond_broadcast(&ck_wake);
        pthread_mutex_unlock(&ck_sleep_lock);
    }
    ck_run_tasks(atomic_load_explicit(&ck_ticket, memory_order_acquire));
    while (atomic_load_explicit(&ck_done, memory_order_acquire) < tasks) ck_cpu_relax();
    pthread_mutex_unlock(&ck_run_lock);
}
