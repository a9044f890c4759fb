extension ScaffoldSources {
    /// Causal softmax attention composed from host ops, with a temperature.
    static let attention = #"""
/*
 * @NAME@ — an AutoGLM attention plugin: causal softmax attention composed from the host's
 * differentiable tensor ops (path (a) of the attention vtable), so the host's autograd derives
 * the backward pass and this file holds no gradient code:
 *
 *     scores = (q @ k^T) / (temperature * sqrt(head_dim))    [batch, n_head, seq, seq]
 *     p      = softmax(scores) with a causal mask              position t sees positions <= t
 *     out    = p @ v                                           [batch, n_head, seq, head_dim]
 *
 * q, k and v are [batch, n_head, seq, head_dim] handles (host-owned, borrowed for the call).
 * Change `attention_forward` to try another attention; keep it causal (`make check` tests it).
 *
 * Parameters (config: `attention: { name: @NAME@, temperature: 1.0 }`):
 *   temperature  float, default 1, in [0.01, 100]: divides the scores; 1 is standard attention.
 */
#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>

/* The host's function table, kept from init: valid for the life of the process. */
static const aglm_host_api *host;

/* The parameter schema: the host validates the config against it and applies the defaults. */
static const aglm_param_spec schema[] = {
    AGLM_PARAM_FLOAT_SPEC("temperature", 1.0, 0.01, 100.0,
                          "divides the attention scores; 1 is standard attention"),
};

/* One instance per transformer block: the factor applied to q @ k^T. */
typedef struct attention {
    double scale;
} attention;

/* create: `params` and `info` (an aglm_attention_info) are borrowed for this call only. */
static aglm_status attention_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                    void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    const double temperature = aglm_param_f64(host, params, "temperature");
    attention *self;
    (void)layout; /* keep the default layout: as many key/value heads as query heads */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "missing attention info (head_dim)");
    self = (attention *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->scale = 1.0 / (temperature * sqrt((double)ai->head_dim));
    *instance = self; /* plugin-owned until destroy */
    return AGLM_OK;
}

/* destroy: frees the instance. */
static void attention_destroy(void *instance) { free(instance); }

/* forward: every host op passes a NULL input on as NULL (with the first error already set on
 * ctx), so the chain is checked once, at its end. The results are host-owned handles. */
static aglm_tensor *attention_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q,
                                      aglm_tensor *k, aglm_tensor *v) {
    const attention *self = (const attention *)instance;
    aglm_tensor *scores = host->matmul(ctx, q, k, 0, 1); /* q @ k^T: [B, H, T, T] */
    aglm_tensor *scaled = host->affine(ctx, scores, self->scale, 0.0);
    aglm_tensor *probs = host->softmax(ctx, scaled, AGLM_MASK_CAUSAL);
    return host->matmul(ctx, probs, v, 0, 0); /* [B, H, T, D], or NULL with the error set */
}

/* The vtable must outlive the process's use of the plugin: static storage. Path (a): forward
 * only (the fused path's fields stay NULL). */
static const aglm_attention_vtable vtable = {
    sizeof(aglm_attention_vtable), attention_forward, NULL, NULL, NULL,
};

/* init: registers the component (the descriptor may live on the stack: the host copies it). */
static aglm_status plugin_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "@NAME@",
                       "causal softmax attention with a temperature, composed from host ops",
                       "0.1.0", AGLM_SCHEMA(schema), attention_create, attention_destroy, &vtable);
    return host->register_component(ctx, &d);
}

/* The one exported symbol, aglm_plugin_entry_v1: ABI version, plugin name and version, init. */
AGLM_DEFINE_PLUGIN("@NAME@", "0.1.0", plugin_init);

"""#
}
