/*
 * Test fixture: one of two plugins (dup_a.c, dup_b.c) that both register an evaluator named
 * "dup_metric". The host must keep the first one loaded, refuse the second and name both files.
 * The evaluator itself works: it counts tokens and emits "dup_tokens".
 */
#include <autoglm/plugin.h>

#include <stdlib.h>

static const aglm_host_api *host;

static aglm_status create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                          void **instance) {
    (void)params;
    (void)info;
    (void)layout;
    *instance = calloc(1, sizeof(int64_t));
    if (*instance == NULL) {
        host->set_error(ctx, "out of memory");
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    return AGLM_OK;
}

static void destroy(void *instance) { free(instance); }

static aglm_status reset(void *instance, aglm_ctx *ctx) {
    (void)ctx;
    *(int64_t *)instance = 0;
    return AGLM_OK;
}

static aglm_status update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                          const aglm_view *targets) {
    (void)ctx;
    (void)logits;
    *(int64_t *)instance += targets->ndim > 0 ? targets->shape[0] : 0;
    return AGLM_OK;
}

static aglm_status compute(void *instance, aglm_ctx *ctx) {
    host->emit_metric(ctx, "dup_tokens", (double)*(int64_t *)instance);
    return AGLM_OK;
}

static const aglm_evaluator_vtable vtable = {sizeof(aglm_evaluator_vtable), reset, update, compute};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = {
        sizeof(aglm_component_desc), AGLM_KIND_EVALUATOR, "dup_metric",
        "counts tokens (registered by dup_a)", "1.0.0", NULL, 0, create, destroy, NULL, NULL,
        &vtable,
    };
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, 0, "dup-a", "1.0.0", init,
    };
    return &entry;
}
