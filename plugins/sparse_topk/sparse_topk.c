/*
 * sparse_topk — causal multi-head attention in which each query keeps only its `k` highest
 * scores ("explicit sparse" / top-k attention, Zhao et al. 2019, "Explicit Sparse Transformer:
 * Concentrated Attention Through Explicit Selection", arXiv:1912.11637):
 *
 *     s      = (q @ k^T) * scale                       [batch, n_head, seq, seq]
 *     s_ij   = -inf              where j > i           (causal)
 *     s_ij   = -inf              where s_ij is not among the k largest of row i
 *     p      = softmax(s)                              row-wise, over the kept entries only
 *     out    = p @ v                                   [batch, n_head, seq, head_dim]
 *
 * Row i of a causal score matrix has i + 1 candidates, so rows with i + 1 <= k keep them all;
 * with k >= seq the result is exactly causal_dense. Ties at the k-th value go to the lower key
 * index (the host's topk_mask). The selection is a constant of the forward pass: gradients flow
 * only through the kept entries (a dropped score gets zero gradient, and a key or value that no
 * query kept gets none at all).
 *
 * Composed from host ops (path (a): matmul, affine, causal_mask, masked_fill, topk_mask,
 * masked_fill, softmax, matmul); the host's autograd derives the backward. It uses as many
 * key/value heads as query heads. Memory is that of dense attention: O(seq^2) per head.
 *
 * Parameters:
 *   k       int, default 32, >= 1: scores kept per query (row) before the softmax.
 *   scale   float, default 0, >= 0: factor applied to q @ k^T; 0 means 1 / sqrt(head_dim).
 */
#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec topk_params[] = {
    AGLM_PARAM_INT_SPEC("k", 32, 1, INFINITY,
                        "scores kept per query before the softmax (k >= seq = dense causal)"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the selection; 0 means 1/sqrt(head_dim)"),
};

/** One instance (one per transformer block). */
typedef struct sparse_topk {
    int64_t k;    /* kept scores per row */
    double scale; /* resolved score scale */
} sparse_topk;

/** create: reads k and resolves the scale; keeps kv_heads = n_head. */
static aglm_status topk_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    double scale = aglm_param_f64(host, params, "scale");
    int64_t k = aglm_param_i64(host, params, "k");
    sparse_topk *self;
    (void)layout; /* keep the default: kv_heads = n_head */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (head_dim)");
    if (k < 1) return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "k must be >= 1, got %lld",
                                  (long long)k);
    self = (sparse_topk *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->k = k;
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void topk_destroy(void *instance) { free(instance); }

/** forward: q, k, v [B, H, T, D] -> softmax(top-k of causal q k^T * scale) v. Host ops pass a
 *  NULL input through as NULL with the first error already set, so the chain is checked once. */
static aglm_tensor *topk_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                 aglm_tensor *v) {
    const sparse_topk *self = (const sparse_topk *)instance;
    const int64_t t = host->tensor_dim(q, -2); /* sequence length of this call */
    aglm_tensor *s, *causal, *keep, *p;
    if (t < 1) {
        host->set_error(ctx, "q must be [batch, heads, seq, head_dim] with seq >= 1");
        return NULL;
    }
    s = host->matmul(ctx, q, k, 0, 1);                   /* [B, H, T, T] */
    s = host->affine(ctx, s, self->scale, 0.0);
    causal = host->causal_mask(ctx, t, t, 0);            /* 0/1 constant [T, T] */
    s = host->masked_fill(ctx, s, causal, -INFINITY);    /* future keys: -inf, never selected */
    keep = host->topk_mask(ctx, s, self->k);             /* constant: k largest finite per row */
    s = host->masked_fill(ctx, s, keep, -INFINITY);      /* gradient only through kept entries */
    p = host->softmax(ctx, s, AGLM_MASK_NONE);           /* -inf entries get probability 0 */
    return host->matmul(ctx, p, v, 0, 0);                /* [B, H, T, D], NULL on any error */
}

/** The attention vtable (static: the host keeps the pointer). Path (a): forward only. */
static const aglm_attention_vtable topk_vtable = {
    sizeof(aglm_attention_vtable), topk_forward, NULL, NULL, NULL,
    NULL, /* no decode: sampling recomputes the context */
};

/** init: registers the "sparse_topk" attention. */
static aglm_status topk_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "sparse_topk",
                       "causal attention keeping each query's k highest scores (explicit sparse)",
                       "1.0.0", AGLM_SCHEMA(topk_params), topk_create, topk_destroy, &topk_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-sparse-topk", "1.0.0", topk_init);
