/*
 * cpu.c — which kernel path this CPU runs (probed once), and OpenBLAS's kernels to match.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#include "ck_kernels.h"

#include <stdlib.h>
#include <string.h>

/** The probe's result, +1 (0: not probed yet). Racing first calls compute the same value. */
static _Atomic int ck_probed;

static ck_isa ck_probe(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return CK_ISA_BASELINE;
    if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")))
        return CK_ISA_AVX2;
    return __builtin_cpu_supports("avx512bf16") ? CK_ISA_AVX512_BF16 : CK_ISA_AVX512;
#else
    return CK_ISA_BASELINE;
#endif
}

ck_isa ck_cpu_isa(void) {
    int v = ck_probed;
    if (v == 0) {
        v = (int)ck_probe() + 1;
        ck_probed = v;
    }
    return (ck_isa)(v - 1);
}

int ck_cpu_bf16_dot_is_fast(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    return ck_cpu_isa() == CK_ISA_AVX512_BF16 && __builtin_cpu_is("amd");
#else
    return 0;
#endif
}

const char *ck_isa_name(ck_isa isa) {
    switch (isa) {
    case CK_ISA_AVX2: return "avx2";
    case CK_ISA_AVX512: return "avx512";
    case CK_ISA_AVX512_BF16: return "avx512_bf16";
    default: return "baseline";
    }
}

/* OpenBLAS (DYNAMIC_ARCH builds, as Debian's) picks its kernels at load time from the CPU model,
 * and 0.3.21 does not know recent ones: on an AVX-512 Xeon of family 6 model 207 it runs its
 * SSE3 "Prescott" kernels, at a fifth of the SkylakeX kernels' speed. Its own override is the
 * OPENBLAS_CORETYPE variable, read by gotoblas_dynamic_init (exported, as is
 * gotoblas_dynamic_quit, which forgets the choice): set it and run the selection again. */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

/** The path level of an OpenBLAS core name (0 for the cores below AVX2 and unknown ones). */
static ck_isa ck_blas_level(const char *core) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", NULL};
    int i;
    for (i = 0; avx512[i] != NULL; ++i)
        if (strcmp(core, avx512[i]) == 0) return CK_ISA_AVX512;
    for (i = 0; avx2[i] != NULL; ++i)
        if (strcmp(core, avx2[i]) == 0) return CK_ISA_AVX2;
    return CK_ISA_BASELINE;
}

const char *ck_blas_select_core(ck_isa isa) {
    const ck_isa level = isa > ck_cpu_isa() ? ck_cpu_isa() : isa;
    const ck_isa want = level >= CK_ISA_AVX512 ? CK_ISA_AVX512 : level;
    const char *core;
    if (openblas_get_corename == NULL) return "unknown";
    core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") != NULL || gotoblas_dynamic_init == NULL || gotoblas_dynamic_quit == NULL ||
        ck_blas_level(core) == want)
        return core;
    setenv("OPENBLAS_CORETYPE", want == CK_ISA_AVX512 ? "SkylakeX" : want == CK_ISA_AVX2 ? "Haswell" : "Prescott", 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return openblas_get_corename();
}

/* The variants compiled from kernels_impl.h (kernels_<path>.c). */
#define CK_DECLARE_PATH(suffix)                                                             \
    void ck_gelu_##suffix(const float *x, float *y, size_t n);                              \
    void ck_gelu_with_slope_##suffix(const float *x, float *y, float *slope, size_t n);     \
    double ck_sum_squares_##suffix(const float *x, size_t n);                               \
    void ck_bf16_round_floats_##suffix(const float *x, float *y, size_t n);                 \
    void ck_bf16_from_floats_##suffix(const float *x, uint16_t *y, size_t n);
CK_DECLARE_PATH(baseline)
#if defined(__x86_64__) && defined(__clang__)
CK_DECLARE_PATH(avx2)
CK_DECLARE_PATH(avx512)
#define CK_PATH(isa, suffix, to_bf16)                                                       \
    {isa, ck_gelu_##suffix, ck_gelu_with_slope_##suffix, ck_sum_squares_##suffix,          \
     ck_bf16_round_floats_##suffix, to_bf16}
#endif

/** One table per path, indexed by ck_isa. */
static const ck_kernel_table ck_tables[] = {
    {CK_ISA_BASELINE, ck_gelu_baseline, ck_gelu_with_slope_baseline, ck_sum_squares_baseline,
     ck_bf16_round_floats_baseline, ck_bf16_from_floats_baseline},
#if defined(__x86_64__) && defined(__clang__)
    CK_PATH(CK_ISA_AVX2, avx2, ck_bf16_from_floats_avx2),
    CK_PATH(CK_ISA_AVX512, avx512, ck_bf16_from_floats_avx512),
    CK_PATH(CK_ISA_AVX512_BF16, avx512, ck_bf16_from_float_native),
#endif
};

const ck_kernel_table *ck_kernels_for(ck_isa isa) {
    const int count = (int)(sizeof ck_tables / sizeof ck_tables[0]);
    int level = (int)(isa > ck_cpu_isa() ? ck_cpu_isa() : isa);
    if (level >= count) level = count - 1;
    if (level < 0) level = 0;
    return &ck_tables[level];
}
