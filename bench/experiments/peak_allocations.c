/*
 * peak_allocations.c — what a process holds at its peak: an LD_PRELOAD library that follows every
 * allocation of 64 KiB or more (malloc, posix_memalign, aligned_alloc; free) and, at exit, writes
 * the peak of their live bytes with the live sizes at that moment (size, count, MB), and the
 * stack of the allocation that set the peak. The host's buffer pool keeps idle buffers
 * allocated, so they count, as they do in the peak RSS. Diffing the fp32 and bf16 reports of the
 * same run names what bf16 adds (BENCHMARKS.md, "bf16 peak memory").
 *
 * build: cc -O2 -shared -fPIC bench/experiments/peak_allocations.c -o /tmp/peak_allocations.so -ldl
 * run:   PEAK_ALLOCATIONS_OUT=/tmp/bf16.txt LD_PRELOAD=/tmp/peak_allocations.so \
 *            .build/release/autoglm bench --preset medium --precision bf16 --steps 2
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MIN_BYTES (64 * 1024)
#define SLOTS (1 << 16)   /* open-addressing table of live allocations (a power of two) */
#define SIZES 4096        /* distinct sizes kept at the peak */

static void *keys[SLOTS];
static size_t sizes[SLOTS];
static size_t live, peak, peak_allocation;
static size_t peak_sizes[SIZES];
static int peak_counts[SIZES], peak_distinct;
static void *stack[64];
static int stack_depth, in_backtrace;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

static void resolve(void) {
    if (real_malloc) return;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
}

static size_t slot(const void *p) { return ((uintptr_t)p >> 6) & (SLOTS - 1); }

/* The live sizes now, as (size, count) pairs. */
static void snapshot(void) {
    int i, j;
    peak_distinct = 0;
    for (i = 0; i < SLOTS; ++i) {
        if (!keys[i]) continue;
        for (j = 0; j < peak_distinct && peak_sizes[j] != sizes[i]; ++j) {}
        if (j == peak_distinct) {
            if (peak_distinct == SIZES) continue;
            peak_sizes[peak_distinct] = sizes[i];
            peak_counts[peak_distinct++] = 0;
        }
        peak_counts[j]++;
    }
}

static void add(void *p, size_t n) {
    size_t h;
    if (!p || n < MIN_BYTES) return;
    pthread_mutex_lock(&lock);
    for (h = slot(p); keys[h]; h = (h + 1) & (SLOTS - 1)) {}
    keys[h] = p;
    sizes[h] = n;
    live += n;
    if (live > peak) {
        peak = live;
        peak_allocation = n;
        snapshot();
        if (!in_backtrace) { in_backtrace = 1; stack_depth = backtrace(stack, 64); in_backtrace = 0; }
    }
    pthread_mutex_unlock(&lock);
}

static void drop(void *p) {
    size_t h, j;
    int probes;
    if (!p) return;
    pthread_mutex_lock(&lock);
    for (h = slot(p), probes = 0; keys[h] && probes < SLOTS; h = (h + 1) & (SLOTS - 1), ++probes) {
        if (keys[h] != p) continue;
        live -= sizes[h];
        keys[h] = NULL;
        /* re-insert the rest of the cluster so that lookups never stop at the hole */
        for (j = (h + 1) & (SLOTS - 1); keys[j]; j = (j + 1) & (SLOTS - 1)) {
            void *k = keys[j];
            size_t s = sizes[j], t;
            keys[j] = NULL;
            for (t = slot(k); keys[t]; t = (t + 1) & (SLOTS - 1)) {}
            keys[t] = k;
            sizes[t] = s;
        }
        break;
    }
    pthread_mutex_unlock(&lock);
}

void *malloc(size_t n) {
    void *p;
    resolve();
    p = real_malloc(n);
    add(p, n);
    return p;
}

void free(void *p) {
    resolve();
    drop(p);
    real_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t n) {
    int status;
    resolve();
    status = real_posix_memalign(out, alignment, n);
    if (status == 0) add(*out, n);
    return status;
}

void *aligned_alloc(size_t alignment, size_t n) {
    void *p;
    resolve();
    p = real_aligned_alloc(alignment, n);
    add(p, n);
    return p;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("PEAK_ALLOCATIONS_OUT");
    FILE *f = fopen(path ? path : "/tmp/peak_allocations.txt", "w");
    int i;
    if (!f) return;
    fprintf(f, "peak %.1f MB\n", (double)peak / 1e6);
    for (i = 0; i < peak_distinct; ++i)
        fprintf(f, "%zu %d %.2f\n", peak_sizes[i], peak_counts[i], (double)peak_sizes[i] * peak_counts[i] / 1e6);
    fprintf(f, "peak set by an allocation of %zu bytes at:\n", peak_allocation);
    fflush(f);
    backtrace_symbols_fd(stack, stack_depth, fileno(f));
    fclose(f);
}
