/*
 * Test fixture: an attention that makes a persistent constant in create (ABI 1.2 constant_new)
 * and uses it in every forward: out = q + slice(c, 0, 0, T), with c[t, d] = t + d / 100
 * ([block_size, head_dim]). The handle of the last constant made is also kept in a global, so
 * a later instance created with `stale` = 1 (which makes no constant of its own) can try to use
 * a constant of an instance that is gone: the host must refuse it.
 */
#include <autoglm/helpers.h>

static const aglm_host_api *host;
/** The handle of the last constant any instance made (kept on purpose past its instance). */
static aglm_tensor *last_constant;

static const aglm_param_spec params[] = {
    AGLM_PARAM_BOOL_SPEC("stale", 0, "use the global handle of an earlier instance's constant"),
};

typedef struct holder {
    aglm_tensor *c;
    int stale;
} holder;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    holder *self = (holder *)aglm_calloc(host, ctx, sizeof *self);
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->stale = aglm_param_bool(host, p, "stale");
    if (!self->stale) {
        const int64_t shape[2] = {ai->block_size, ai->head_dim};
        float *data = (float *)aglm_calloc(host, ctx, (size_t)(ai->block_size * ai->head_dim) * sizeof(float));
        int64_t t, d;
        if (data == NULL) {
            free(self);
            return AGLM_ERR_OUT_OF_MEMORY;
        }
        for (t = 0; t < ai->block_size; ++t)
            for (d = 0; d < ai->head_dim; ++d) data[t * ai->head_dim + d] = (float)t + (float)d / 100.0f;
        self->c = host->constant_new(ctx, 2, shape, data);
        free(data);
        if (self->c == NULL) {
            free(self);
            return AGLM_ERR_INVALID_ARGUMENT;
        }
        last_constant = self->c;
    }
    *instance = self;
    return AGLM_OK;
}

static void destroy(void *instance) { free(instance); }

static aglm_tensor *forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k, aglm_tensor *v) {
    const holder *self = (const holder *)instance;
    aglm_tensor *c = self->stale ? last_constant : self->c;
    (void)k;
    (void)v;
    return host->add(ctx, q, host->slice(ctx, c, 0, 0, host->tensor_dim(q, 2)));
}

static const aglm_attention_vtable vtable = {sizeof(aglm_attention_vtable), forward, NULL, NULL, NULL, NULL};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_ATTENTION, "constants", "adds a persistent constant (test fixture)",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("constants", "1.0.0", init);
