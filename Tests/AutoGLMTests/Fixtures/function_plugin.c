/*
 * Test fixture: a plugin that registers four functions by prototype (ABI 1.2) and needs a 1.2
 * host (min_host_minor 2). It also tries registrations the host must refuse, one per rule, and
 * checks that each returns AGLM_ERR_INVALID_ARGUMENT: init fails (naming the case) otherwise.
 * The refusals are still listed as failures of this file while the library loads.
 * The tests also compile it as C++17 (`-x c++`): helpers.h's aglm_function and AGLM_FN there.
 */
#include <autoglm/helpers.h>

/* Sums a buffer and scales the sum. */
static double scaled_sum(const float *x, size_t n, double scale) {
    double s = 0;
    size_t i;
    for (i = 0; i < n; ++i) s += x[i];
    return scale * s;
}

/* Writes its buffer. */
static void scale_in_place(float *x, int64_t n, float factor) {
    int64_t i;
    for (i = 0; i < n; ++i) x[i] *= factor;
}

/* Registered without an aglm_function_info (so `plugins validate` finds no doc line). */
static int32_t answer(void) { return 42; }

/* Documented with example arguments that give NaN (so `plugins validate` fails it). */
static double ratio(double a, double b) { return a / b; }

/* One registration the host must refuse. */
typedef struct refused_case {
    const char *prototype;
    int null_fn;     /* pass NULL as fn */
    int short_info;  /* pass an info with struct_size 4 */
} refused_case;

static const refused_case refused[] = {
    {"double scaled_sum(const float *x, size_t n, struct foo y)", 0, 0}, /* bad type */
    {"double no_fn(int64_t x)", 1, 0},                                   /* NULL fn */
    {NULL, 0, 0},                                                        /* NULL prototype */
    {"double short_info(int64_t x)", 0, 1},                              /* info too small */
    {"double Shout(int64_t x)", 0, 0},                                   /* not a config name */
    {"double camel(int64_t baseLR)", 0, 0},                              /* parameter name */
    {"double scaled_sum(const float *x, size_t n, double scale)", 0, 0}, /* twice in this library */
};

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_function_info info = aglm_function("scale times the sum of x", "x=1,2,3.5 scale=2");
    aglm_status st;
    size_t i;
    if (!AGLM_HAS_FIELD(host, aglm_host_api, register_function))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "host has no register_function");
    st = host->register_function(ctx, "double scaled_sum(const float *x, size_t n, double scale)",
                                 AGLM_FN(scaled_sum), &info);
    if (st != AGLM_OK) return st;
    info = aglm_function("multiplies x by factor in place", "x=1,-2,0.5 factor=4");
    st = host->register_function(ctx, "void scale_in_place(float *x, int64_t n, float factor)",
                                 AGLM_FN(scale_in_place), &info);
    if (st != AGLM_OK) return st;
    st = host->register_function(ctx, "int32_t answer(void)", AGLM_FN(answer), NULL);
    if (st != AGLM_OK) return st;
    info = aglm_function("a / b", "a=0 b=0");
    st = host->register_function(ctx, "double ratio(double a, double b)", AGLM_FN(ratio), &info);
    if (st != AGLM_OK) return st;
    for (i = 0; i < AGLM_COUNTOF(refused); ++i) {
        aglm_function_info small = info;
        small.struct_size = 4;
        st = host->register_function(ctx, refused[i].prototype, refused[i].null_fn ? NULL : AGLM_FN(answer),
                                     refused[i].short_info ? &small : &info);
        if (st != AGLM_ERR_INVALID_ARGUMENT)
            return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "refused case %d returned status %d",
                               (int)i, (int)st);
    }
    return AGLM_OK;
}

AGLM_DEFINE_PLUGIN_EX("function-plugin", "1.0.0", 2, init);
