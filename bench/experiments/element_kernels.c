/*
 * element_kernels.c — the element kernels of Sources/CKernels (kernels_impl.h) on each path,
 * ns per element, thread CPU time, best of `rounds`: the measurement behind keeping (or not) the
 * AVX-512 variants; the float32 -> bfloat16 conversion also in its portable scalar form (the
 * reference every path must match, and what the avx2 and avx512 paths ran before they had their
 * own). n = 786,432 = the medium preset's MLP hidden activations of one layer
 * ([8·256, 4·384]), so the data streams from L2/L3 as in a training step.
 *
 * build: clang -O2 -I Sources/CKernels/include bench/experiments/element_kernels.c Sources/CKernels/cpu.c \
 *          Sources/CKernels/kernels_*.c Sources/CKernels/bf16.c -o /tmp/element_kernels
 */
#include "ck_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const size_t n = 786432;
    const int rounds = argc > 1 ? atoi(argv[1]) : 50;
    float *x = malloc(n * 4), *y = malloc(n * 4), *s = malloc(n * 4);
    uint16_t *h = malloc(n * 2);
    size_t i;
    int isa, r;
    volatile double sink = 0;
    for (i = 0; i < n; ++i) x[i] = (float)((int)(i * 2654435761u % 2001) - 1000) * 0.004f;
    for (isa = 0; isa <= (int)ck_cpu_isa(); ++isa) {
        const ck_kernel_table *k = ck_kernels_for((ck_isa)isa);
        double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
        for (r = 0; r < rounds; ++r) {
            double t = cpu_seconds();
            k->gelu(x, y, n);
            t = cpu_seconds() - t; if (t < best[0]) best[0] = t;
            t = cpu_seconds();
            k->gelu_with_slope(x, y, s, n);
            t = cpu_seconds() - t; if (t < best[1]) best[1] = t;
            t = cpu_seconds();
            sink += k->sum_squares(x, n);
            t = cpu_seconds() - t; if (t < best[2]) best[2] = t;
            t = cpu_seconds();
            k->bf16_round(x, y, n);
            t = cpu_seconds() - t; if (t < best[3]) best[3] = t;
            t = cpu_seconds();
            k->bf16_from_float(x, h, n);
            t = cpu_seconds() - t; if (t < best[4]) best[4] = t;
            t = cpu_seconds();
            ck_bf16_from_float_portable(x, h, n);
            t = cpu_seconds() - t; if (t < best[5]) best[5] = t;
        }
        printf("{\"path\": \"%s\", \"gelu_ns\": %.3f, \"gelu_with_slope_ns\": %.3f, \"sum_squares_ns\": %.3f, \"bf16_round_ns\": %.3f, "
               "\"bf16_from_float_ns\": %.3f, \"bf16_from_float_portable_ns\": %.3f}\n",
               ck_isa_name((ck_isa)isa), best[0] / n * 1e9, best[1] / n * 1e9, best[2] / n * 1e9, best[3] / n * 1e9,
               best[4] / n * 1e9, best[5] / n * 1e9);
    }
    return sink == 42.0;
}
