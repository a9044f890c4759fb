/*
 * adamw_paths.c — plugins/adamw's update loop (the same statements) compiled for baseline
 * x86-64, AVX2+FMA and AVX-512, ns per element over a medium-preset-sized model (10.7M
 * parameters: the loop streams p, g, m, v from memory), one core, thread CPU time, best of 20.
 * The measurement behind keeping AdamW on its baseline build (issue #18).
 *
 * build: clang -O3 -ffp-contract=fast bench/experiments/adamw_paths.c -o /tmp/adamw_paths -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ADAMW_LOOP                                                                         \
    for (i = 0; i < n; ++i) {                                                              \
        const float gi = g[i];                                                             \
        const float pi = p[i] * decay;                                                     \
        const float mi = (from_start ? m[i] : gi) + coeff * (gi - m[i]);                   \
        const float vi = v[i] * beta2 + omb2 * gi * gi;                                    \
        m[i] = mi;                                                                         \
        v[i] = vi;                                                                         \
        p[i] = pi + neg_step * mi / (__builtin_sqrtf(vi) / bc2 + eps);                     \
    }

#define ADAMW_VARIANT(name, attr)                                                                  \
    attr static void name(float *restrict p, const float *restrict g, float *restrict m,          \
                          float *restrict v, int64_t n, float decay, int from_start, float coeff,  \
                          float beta2, float omb2, float bc2, float eps, float neg_step) {         \
        int64_t i;                                                                                 \
        ADAMW_LOOP                                                                                 \
    }
ADAMW_VARIANT(adamw_baseline, )
ADAMW_VARIANT(adamw_avx2, __attribute__((target("avx2,fma"))))
ADAMW_VARIANT(adamw_avx512, __attribute__((target("avx512f,avx2,fma"))))

typedef void (*adamw_fn)(float *, const float *, float *, float *, int64_t, float, int, float, float, float,
                         float, float, float);

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    const int64_t n = 10700000;
    float *p = malloc(n * 4), *g = malloc(n * 4), *m = calloc(n, 4), *v = calloc(n, 4);
    const adamw_fn fns[3] = {adamw_baseline, adamw_avx2, adamw_avx512};
    const char *names[3] = {"baseline", "avx2", "avx512"};
    int64_t i;
    int f, r;
    for (i = 0; i < n; ++i) { p[i] = (float)(i % 97) * 0.01f; g[i] = (float)(i % 13) * 0.001f - 0.006f; }
    for (f = 0; f < 3; ++f) {
        double best = 1e9;
        for (r = 0; r < 20; ++r) {
            double t = cpu_seconds();
            fns[f](p, g, m, v, n, 0.9999f, 1, 0.1f, 0.99f, 0.01f, 0.3f, 1e-8f, -1e-3f);
            t = cpu_seconds() - t;
            if (t < best) best = t;
        }
        printf("{\"path\": \"%s\", \"adamw_ns_per_element\": %.3f}\n", names[f], best / n * 1e9);
    }
    return p[5] == 12345.0f;
}
