/*
 * bf16_gemm.c — the candidates for the bf16 GEMMs of train.precision bf16, measured against each
 * other on the training step's shapes (the small and medium presets' linear layers, forward and
 * both backward products), one core each (the host splits GEMMs into panels, one per worker):
 *
 *   fp32     OpenBLAS cblas_sgemm on the float32 operands (the fp32 path; no rounding)
 *   emulated round both operands to bfloat16 (the AVX-512 path's bf16_round), then cblas_sgemm
 *   own      Sources/CKernels/bf16.c: pack op(B), then ck_bf16_gemm_panel (vdpbf16ps)
 *   onednn   convert both operands to bfloat16 (vcvtne2ps2bf16), then oneDNN's matmul
 *            (bf16 x bf16 -> f32; primitive created once per shape, outside the timing)
 *
 * Times are thread CPU time (immune to other jobs taking the core, not to their cache traffic),
 * best of `rounds`, conversions and packing included. OpenBLAS runs the kernels named on the
 * command line (OpenBLAS 0.3.21 takes this machine's CPU for a Prescott).
 *
 * build: clang -O2 -I Sources/CKernels/include bench/experiments/bf16_gemm.c Sources/CKernels/bf16.c \
 *          -o /tmp/bf16_gemm -lopenblas -ldnnl -lgomp
 * usage: /tmp/bf16_gemm [OPENBLAS_CORE=SkylakeX] [rounds=7]
 */
#include "ck_kernels.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
/* libgomp (oneDNN runs on OpenMP in Debian's build) */
void omp_set_num_threads(int threads);
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct shape { const char *name; int ta, tb; int64_t m, n, k; } shape;

/* B·T = 2048 tokens for both presets; C = 128 (small) or 384 (medium). */
static const shape shapes[] = {
    {"small qkv fwd   [2048,128]x[384,128]T", 0, 1, 2048, 384, 128},
    {"small fc fwd    [2048,128]x[512,128]T", 0, 1, 2048, 512, 128},
    {"small out fwd   [2048,512]x[128,512]T", 0, 1, 2048, 128, 512},
    {"small fc dX     [2048,512]x[512,128]", 0, 0, 2048, 128, 512},
    {"small fc dW     [2048,512]Tx[2048,128]", 1, 0, 512, 128, 2048},
    {"medium qkv fwd  [2048,384]x[1152,384]T", 0, 1, 2048, 1152, 384},
    {"medium fc fwd   [2048,384]x[1536,384]T", 0, 1, 2048, 1536, 384},
    {"medium out fwd  [2048,1536]x[384,1536]T", 0, 1, 2048, 384, 1536},
    {"medium qkv dX   [2048,1152]x[1152,384]", 0, 0, 2048, 384, 1152},
    {"medium fc dX    [2048,1536]x[1536,384]", 0, 0, 2048, 384, 1536},
    {"medium qkv dW   [2048,1152]Tx[2048,384]", 1, 0, 1152, 384, 2048},
    {"medium fc dW    [2048,1536]Tx[2048,384]", 1, 0, 1536, 384, 2048},
    {"medium out dW   [2048,384]Tx[2048,1536]", 1, 0, 384, 1536, 2048},
};

static float *random_floats(size_t n, unsigned seed) {
    float *x = malloc(n * sizeof *x);
    size_t i;
    for (i = 0; i < n; ++i) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.2f;
    }
    return x;
}

int main(int argc, char **argv) {
    const char *core = argc > 1 ? argv[1] : "SkylakeX";
    const int rounds = argc > 2 ? atoi(argv[2]) : 7;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    size_t s;
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
    dnnl_engine_create(&engine, dnnl_cpu, 0);
    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    printf("{\"openblas_core\": \"%s\", \"cpu_isa\": \"%s\"}\n", openblas_get_corename(), ck_isa_name(ck_cpu_isa()));
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        const shape *sh = &shapes[s];
        const int64_t m = sh->m, n = sh->n, k = sh->k;
        /* stored layouts: A [m x k] or [k x m]; B [k x n] or [n x k] */
        const int64_t lda = sh->ta ? m : k, ldb = sh->tb ? k : n;
        const size_t na = (size_t)(m * k), nb = (size_t)(k * n);
        float *a = random_floats(na, 1), *b = random_floats(nb, 2), *c = calloc((size_t)(m * n), sizeof(float));
        float *ra = malloc(na * sizeof(float)), *rb = malloc(nb * sizeof(float));
        uint16_t *ha = malloc(na * 2), *hb = malloc(nb * 2);
        uint16_t *packed = malloc(ck_bf16_packed_b_count(k, n) * 2);
        const double flops = 2.0 * (double)m * (double)n * (double)k;
        double best[4] = {1e30, 1e30, 1e30, 1e30};
        dnnl_memory_desc_t amd, bmd, cmd;
        dnnl_dims_t adims = {m, k}, bdims = {k, n}, cdims = {m, n};
        dnnl_dims_t astr = {sh->ta ? 1 : lda, sh->ta ? lda : 1}, bstr = {sh->tb ? 1 : ldb, sh->tb ? ldb : 1}, cstr = {n, 1};
        dnnl_matmul_desc_t mmd;
        dnnl_primitive_desc_t pd;
        dnnl_primitive_t prim;
        dnnl_memory_t am, bm, cm;
        int r;
        dnnl_memory_desc_init_by_strides(&amd, 2, adims, dnnl_bf16, astr);
        dnnl_memory_desc_init_by_strides(&bmd, 2, bdims, dnnl_bf16, bstr);
        dnnl_memory_desc_init_by_strides(&cmd, 2, cdims, dnnl_f32, cstr);
        dnnl_matmul_desc_init(&mmd, &amd, &bmd, NULL, &cmd);
        if (dnnl_primitive_desc_create(&pd, &mmd, NULL, engine, NULL) != dnnl_success) { printf("onednn: no primitive\n"); return 1; }
        dnnl_primitive_create(&prim, pd);
        dnnl_memory_create(&am, &amd, engine, ha);
        dnnl_memory_create(&bm, &bmd, engine, hb);
        dnnl_memory_create(&cm, &cmd, engine, c);
        for (r = 0; r < rounds; ++r) {
            double t;
            dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
            t = cpu_seconds();
            cblas_sgemm(CblasRowMajor, sh->ta ? CblasTrans : CblasNoTrans, sh->tb ? CblasTrans : CblasNoTrans,
                        (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, 0.0f, c, (int)n);
            t = cpu_seconds() - t; if (t < best[0]) best[0] = t;
            t = cpu_seconds();
            ck_kernels_for(CK_ISA_AVX512)->bf16_round(a, ra, na);
            ck_kernels_for(CK_ISA_AVX512)->bf16_round(b, rb, nb);
            cblas_sgemm(CblasRowMajor, sh->ta ? CblasTrans : CblasNoTrans, sh->tb ? CblasTrans : CblasNoTrans,
                        (int)m, (int)n, (int)k, 1.0f, ra, (int)lda, rb, (int)ldb, 0.0f, c, (int)n);
            t = cpu_seconds() - t; if (t < best[1]) best[1] = t;
            t = cpu_seconds();
            ck_bf16_pack_b(b, sh->tb ? 1 : ldb, sh->tb ? ldb : 1, k, n, 0, (n + CK_BF16_NR - 1) / CK_BF16_NR, packed);
            ck_bf16_gemm_panel(m, n, k, 1.0f, a, sh->ta ? 1 : lda, sh->ta ? lda : 1, packed, 0, c, n, 0);
            t = cpu_seconds() - t; if (t < best[2]) best[2] = t;
            t = cpu_seconds();
            ck_bf16_from_float_native(a, ha, na);
            ck_bf16_from_float_native(b, hb, nb);
            dnnl_primitive_execute(prim, stream, 3, args);
            dnnl_stream_wait(stream);
            t = cpu_seconds() - t; if (t < best[3]) best[3] = t;
        }
        printf("{\"shape\": \"%s\", \"fp32_gflops\": %.1f, \"emulated_gflops\": %.1f, \"own_vdpbf16ps_gflops\": %.1f, \"onednn_gflops\": %.1f}\n",
               sh->name, flops / best[0] / 1e9, flops / best[1] / 1e9, flops / best[2] / 1e9, flops / best[3] / 1e9);
        dnnl_primitive_destroy(prim);
        dnnl_primitive_desc_destroy(pd);
        dnnl_memory_destroy(am); dnnl_memory_destroy(bm); dnnl_memory_destroy(cm);
        free(a); free(b); free(c); free(ra); free(rb); free(ha); free(hb); free(packed);
    }
    return 0;
}
