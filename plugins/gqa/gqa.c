/*
 * gqa — grouped-query attention (Ainslie et al. 2023, "GQA: Training Generalized Multi-Query
 * Transformer Models from Multi-Head Checkpoints", arXiv:2305.13245; multi-query attention,
 * Shazeer 2019, arXiv:1911.02150, is the case kv_heads = 1):
 *
 *     g      = n_head / kv_heads                       query heads per key/value head
 *     K, V   = repeat each of the kv_heads heads of k, v g times     [batch, n_head, seq, d]
 *     out_h  = softmax_causal(q_h K_h^T * scale) V_h   query head h uses kv head floor(h / g)
 *
 * The component asks the host for fewer key/value heads (layout->kv_heads in create), so the
 * model's fused qkv projection shrinks from 3 n_head head_dim rows to (n_head + 2 kv_heads)
 * head_dim rows, and k/v arrive as [batch, kv_heads, seq, head_dim]. kv_heads = n_head is plain
 * multi-head attention (causal_dense).
 *
 * Composed from host ops (path (a): repeat_interleave of k and v along the head dimension, then
 * matmul, affine, causal softmax, matmul); the host's autograd derives the backward, summing each
 * shared key/value head's gradient over its group of query heads. Sampling decodes incrementally
 * (ABI 1.2 `decode`, plugins/common/aglm_decode_util.h): the host's cache holds only the
 * kv_heads key/value heads, which is GQA's memory saving at inference.
 *
 * Parameters:
 *   kv_heads  int, default 1 (multi-query), >= 1: key/value heads; must divide the model's n_head.
 *   scale     float, default 0, >= 0: factor applied to q @ k^T; 0 means 1 / sqrt(head_dim).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec gqa_params[] = {
    AGLM_PARAM_INT_SPEC("kv_heads", 1, 1, INFINITY,
                        "key/value heads, must divide n_head (1 = multi-query attention)"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the softmax; 0 means 1/sqrt(head_dim)"),
};

/** One instance (one per transformer block). */
typedef struct gqa {
    int64_t n_head, kv_heads, head_dim;
    double scale; /* resolved score scale */
} gqa;

/** create: checks that kv_heads divides n_head and asks the host for that many k/v heads. */
static aglm_status gqa_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    aglm_attention_layout *lay = (aglm_attention_layout *)layout;
    const double scale = aglm_param_f64(host, params, "scale");
    const int64_t kv_heads = aglm_param_i64(host, params, "kv_heads");
    gqa *self;
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1 || ai->n_head < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim)");
    if (!AGLM_HAS_FIELD(lay, aglm_attention_layout, kv_heads))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "the host offers no attention layout to set kv_heads in");
    if (kv_heads < 1 || kv_heads > ai->n_head || ai->n_head % kv_heads != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "kv_heads = %lld must divide n_head = %lld (choose one of its divisors)",
                           (long long)kv_heads, (long long)ai->n_head);
    self = (gqa *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->n_head = ai->n_head;
    self->kv_heads = kv_heads;
    self->head_dim = ai->head_dim;
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    lay->kv_heads = kv_heads; /* the host sizes the qkv projection and k/v with this */
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void gqa_destroy(void *instance) { free(instance); }

/** forward: q [B, H, T, D], k, v [B, KV, T, D] -> softmax_causal(q K^T * scale) V with K, V the
 *  kv heads repeated H / KV times each. */
static aglm_tensor *gqa_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                aglm_tensor *v) {
    const gqa *self = (const gqa *)instance;
    const int64_t heads = host->tensor_dim(q, 1), kv = host->tensor_dim(k, 1);
    aglm_tensor *s, *p;
    if (host->tensor_ndim(q) != 4 || host->tensor_ndim(k) != 4 || host->tensor_ndim(v) != 4) {
        host->set_error(ctx, "q, k and v must be [batch, heads, seq, head_dim]");
        return NULL;
    }
    if (heads != self->n_head || kv != self->kv_heads || host->tensor_dim(v, 1) != kv) {
        aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                    "expected %lld query and %lld key/value heads, got q %lld, k %lld, v %lld",
                    (long long)self->n_head, (long long)self->kv_heads, (long long)heads,
                    (long long)kv, (long long)host->tensor_dim(v, 1));
        return NULL;
    }
    if (heads != kv) {
        k = host->repeat_interleave(ctx, k, 1, heads / kv); /* [B, H, T, D] */
        v = host->repeat_interleave(ctx, v, 1, heads / kv);
    }
    s = host->matmul(ctx, q, k, 0, 1);                    /* [B, H, T, T] */
    s = host->affine(ctx, s, self->scale, 0.0);
    p = host->softmax(ctx, s, AGLM_MASK_CAUSAL);
    return host->matmul(ctx, p, v, 0, 0);                 /* [B, H, T, D], NULL on any error */
}

/** decode: grouped-query attention of the new positions against the host's cache. */
static aglm_status gqa_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const gqa *self = (const gqa *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = self->n_head;
    o.kv_heads = self->kv_heads;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    return aglm_decode(host, ctx, args, &o);
}

/** The attention vtable (static: the host keeps the pointer). Path (a), plus decode. */
static const aglm_attention_vtable gqa_vtable = {
    sizeof(aglm_attention_vtable), gqa_forward, NULL, NULL, NULL, gqa_decode,
};

/** init: registers the "gqa" attention. */
static aglm_status gqa_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "gqa",
                       "grouped-query causal attention: kv_heads shared key/value heads (1 = MQA)",
                       "1.0.0", AGLM_SCHEMA(gqa_params), gqa_create, gqa_destroy, &gqa_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-gqa", "1.0.0", gqa_init);
