/*
 * Test fixture: registers a function named "scaled_sum", like function_plugin.c. Loaded after
 * it, its registration must be refused with a message naming both files, and its init (which
 * returns the status) fails.
 */
#include <autoglm/helpers.h>

static double scaled_sum(const float *x, size_t n, double scale) {
    (void)x;
    (void)n;
    return scale;
}

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    return host->register_function(ctx, "double scaled_sum(const float *x, size_t n, double scale)",
                                   AGLM_FN(scaled_sum), NULL);
}

AGLM_DEFINE_PLUGIN("function-clash", "1.0.0", init);
