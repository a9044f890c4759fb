/* noncausal_attention.c — a deliberately wrong attention (softmax without the causal mask), so
 * the tests can show that `autoglm plugins validate` catches a component that leaks the future. */
#include <autoglm/helpers.h>

static const aglm_host_api *host;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **out) {
    (void)ctx; (void)p; (void)info; (void)layout;
    *out = NULL;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_tensor *forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k, aglm_tensor *v) {
    double scale = 1.0 / sqrt((double)host->tensor_dim(q, -1));
    aglm_tensor *scores = host->affine(ctx, host->matmul(ctx, q, k, 0, 1), scale, 0.0);
    (void)instance;
    return host->matmul(ctx, host->softmax(ctx, scores, AGLM_MASK_NONE), v, 0, 0);
}

static const aglm_attention_vtable vtable = {sizeof(aglm_attention_vtable), forward, NULL, NULL, NULL, NULL};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_ATTENTION, "noncausal", "attention without a causal mask (broken on purpose)",
                                           "1.0.0", AGLM_NO_PARAMS, create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("noncausal-fixture", "1.0.0", init);
