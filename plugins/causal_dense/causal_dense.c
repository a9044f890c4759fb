/*
 * causal_dense — standard multi-head causal (masked) scaled dot-product attention:
 *
 *     scores = (q @ k^T) * scale              [batch, n_head, seq, seq]
 *     p      = softmax(scores, causal mask)   position t attends to positions <= t
 *     out    = p @ v                          [batch, n_head, seq, head_dim]
 *
 * It is composed purely of the host's differentiable tensor ops (path (a) of the attention
 * vtable), so the host's autograd derives the backward pass; the plugin holds no buffers. It
 * uses as many key/value heads as query heads (the host's default layout). Sampling decodes
 * incrementally (ABI 1.2 `decode`, plugins/common/aglm_decode_util.h) against the host's
 * key/value cache: the same attention, one new position at a time.
 *
 * Parameters:
 *   scale   float, default 0, >= 0: the factor applied to q @ k^T; 0 means 1 / sqrt(head_dim).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec dense_params[] = {
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the softmax; 0 means 1/sqrt(head_dim)"),
};

/** One instance (one per transformer block): its shape and the resolved scale. */
typedef struct causal_dense {
    int64_t n_head, head_dim;
    double scale;
} causal_dense;

/** create: resolves the scale from the parameter and the head size. */
static aglm_status dense_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    double scale = aglm_param_f64(host, params, "scale");
    causal_dense *self;
    (void)layout; /* keep the default: kv_heads = n_head */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1 || ai->n_head < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim)");
    self = (causal_dense *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->n_head = ai->n_head;
    self->head_dim = ai->head_dim;
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void dense_destroy(void *instance) { free(instance); }

/** forward: q, k, v [B, H, T, D] -> softmax_causal(q k^T * scale) v. Every host op passes a
 *  NULL input through as NULL (with the first error already set on ctx), so the chain is
 *  checked once, at its end. */
static aglm_tensor *dense_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                  aglm_tensor *v) {
    const causal_dense *self = (const causal_dense *)instance;
    aglm_tensor *scores = host->matmul(ctx, q, k, 0, 1);        /* [B, H, T, T] */
    aglm_tensor *scaled = host->affine(ctx, scores, self->scale, 0.0);
    aglm_tensor *probs = host->softmax(ctx, scaled, AGLM_MASK_CAUSAL);
    aglm_tensor *out = host->matmul(ctx, probs, v, 0, 0);       /* [B, H, T, D] */
    if (out == NULL) return NULL; /* one of the ops failed; the host's message is already set */
    return out;
}

/** decode: the same attention for the new positions against the host's cache. */
static aglm_status dense_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const causal_dense *self = (const causal_dense *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = o.kv_heads = self->n_head;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    return aglm_decode(host, ctx, args, &o);
}

/** The attention vtable (static: the host keeps the pointer). Path (a), plus decode. */
static const aglm_attention_vtable dense_vtable = {
    sizeof(aglm_attention_vtable), dense_forward, NULL, NULL, NULL, dense_decode,
};

/** init: registers the "causal_dense" attention. */
static aglm_status dense_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "causal_dense",
                       "standard causal softmax attention built from host ops (autograd backward)",
                       "1.0.0", AGLM_SCHEMA(dense_params), dense_create, dense_destroy,
                       &dense_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-causal-dense", "1.0.0", dense_init);
