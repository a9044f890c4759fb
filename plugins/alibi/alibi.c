/*
 * alibi — causal multi-head attention with linear biases (ALiBi: Press, Smith & Lewis 2022,
 * "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation",
 * ICLR 2022, arXiv:2108.12409):
 *
 *     s_hij  = scale * q_hi . k_hj  -  m_h * (i - j)      for j <= i (causal), head h
 *     out    = softmax_causal(s) @ v
 *
 * Instead of position embeddings, every head penalises a key linearly in its distance to the
 * query, with a fixed (not learned) head slope m_h. For n heads, n a power of two, the slopes are
 * the geometric sequence starting at and multiplied by 2^(-max_bias/n):
 *
 *     m_h = 2^(-max_bias * (h + 1) / n),   h = 0 .. n-1     (max_bias = 8 in the paper)
 *
 * e.g. 1/2, 1/4, ..., 1/256 for 8 heads. For other n the paper's reference code interpolates:
 * with p the largest power of two below n, take the p slopes of p heads, followed by every other
 * slope (the 1st, 3rd, 5th, ...) of 2p heads, n - p of them. E.g. n = 6: 1/4, 1/16, 1/64, 1/256,
 * 1/2, 1/8.
 *
 * USE IT WITHOUT POSITION EMBEDDINGS: set `model.position_embedding: false` in the config. The
 * biases carry all the position information (the paper adds no position embedding), which is
 * what lets a model trained on short sequences run on longer ones. With learned absolute
 * embeddings still on it trains, but is no longer ALiBi as published.
 *
 * Composed from host ops (path (a): matmul, affine, add of the constant bias (broadcast over the
 * batch), causal softmax, matmul); the bias is a constant, so the host's autograd gives exactly
 * dense attention's gradients through the shifted scores. It uses as many key/value heads as
 * query heads. The bias -m_h (i - j) depends only on i - j, so the [n_head, T, T] bias of any
 * length T is the top-left block of the one for block_size: it is built once, in create, as a
 * persistent constant (ABI 1.2 constant_new) of [n_head, block_size, block_size], used as is in
 * training (T = block_size) and sliced for shorter sequences. Memory: dense attention's, plus
 * that bias per layer. Sampling decodes incrementally (ABI 1.2 `decode`,
 * plugins/common/aglm_decode_util.h): each new query's scores get -m_h (p - j).
 *
 * Parameters:
 *   max_bias  float, default 8, in (0, 64] (the schema's exclusive lower bound): the 8 of the
 *             paper's slope formula; the slope of the last head of a power-of-two head count
 *             is 2^-max_bias (smaller values bias every head more strongly toward nearby
 *             keys).
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
static const aglm_param_spec alibi_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("max_bias", 8.0, 0.0, 64.0, AGLM_OPEN_MIN,
                                "head slopes are 2^(-max_bias*(h+1)/n_head) for a power-of-two n_head"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the bias is added; 0 means 1/sqrt(head_dim)"),
};

/** One instance (one per transformer block). */
typedef struct alibi {
    int64_t n_head, head_dim, block_size;
    double scale;       /* resolved score scale */
    double *slopes;     /* n_head head slopes m_h */
    aglm_tensor *bias;  /* persistent constant -m_h * (i - j), [n_head, block_size, block_size] */
} alibi;

/** Slope of head h (0-based) of n heads: the paper's get_slopes(n)[h], for any n >= 1. Powers
 *  of two: 2^(-max_bias (h+1) / n). Otherwise, with p = 2^floor(log2 n): the p slopes of p heads,
 *  then slopes 0, 2, 4, ... of 2p heads. */
static double alibi_slope(int64_t n, int64_t h, double max_bias) {
    int64_t p = 1;
    while (p * 2 <= n) p *= 2;
    if (p == n || h < p) return pow(2.0, -max_bias * (double)(h + 1) / (double)p);
    /* get_slopes(2p)[0::2][h - p]: index 2 (h - p) of the 2p-head geometric sequence. */
    return pow(2.0, -max_bias * (double)(2 * (h - p) + 1) / (double)(2 * p));
}

/** destroy: frees the instance and its slopes (the host frees the constant bias). */
static void alibi_destroy(void *instance) {
    alibi *self = (alibi *)instance;
    if (self == NULL) return;
    free(self->slopes);
    free(self);
}

/** Builds the constant bias -m_h (i - j) for j <= i (0 above the diagonal, which the causal
 *  softmax ignores), [n_head, block_size, block_size]. Returns 0 on failure (message set). */
static int alibi_build_bias(alibi *self, aglm_ctx *ctx) {
    const int64_t t = self->block_size;
    const size_t count = (size_t)self->n_head * (size_t)t * (size_t)t;
    const int64_t shape[3] = {self->n_head, t, t};
    float *bias = (float *)aglm_calloc(host, ctx, count * sizeof(float));
    int64_t h, i, j;
    if (bias == NULL) return 0;
    for (h = 0; h < self->n_head; ++h) {
        const double m = self->slopes[h];
        float *b = bias + (size_t)h * (size_t)t * (size_t)t;
        for (i = 0; i < t; ++i)
            for (j = 0; j <= i; ++j) b[i * t + j] = (float)(-m * (double)(i - j));
    }
    self->bias = host->constant_new(ctx, 3, shape, bias); /* copied; valid until destroy */
    free(bias);
    return self->bias != NULL;
}

/** create: computes the head slopes, resolves the scale and builds the bias; keeps kv_heads =
 *  n_head. max_bias > 0 is the schema's (exclusive) bound. */
static aglm_status alibi_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    const double scale = aglm_param_f64(host, params, "scale");
    const double max_bias = aglm_param_f64(host, params, "max_bias");
    alibi *self;
    int64_t h;
    (void)layout; /* keep the default: kv_heads = n_head */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, block_size) || ai->head_dim < 1 || ai->n_head < 1 ||
        ai->block_size < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim, block_size)");
    self = (alibi *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->slopes = (double *)aglm_calloc(host, ctx, (size_t)ai->n_head * sizeof(double));
    if (self->slopes == NULL) {
        alibi_destroy(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    self->n_head = ai->n_head;
    self->head_dim = ai->head_dim;
    self->block_size = ai->block_size;
    for (h = 0; h < ai->n_head; ++h) self->slopes[h] = alibi_slope(ai->n_head, h, max_bias);
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    if (!alibi_build_bias(self, ctx)) {
        alibi_destroy(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    *instance = self;
    return AGLM_OK;
}

/** forward: q, k, v [B, H, T, D] -> softmax_causal(q k^T * scale + bias) v. */
static aglm_tensor *alibi_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                  aglm_tensor *v) {
    alibi *self = (alibi *)instance;
    const int64_t t = host->tensor_dim(q, -2), heads = host->tensor_dim(q, 1);
    aglm_tensor *s, *bias = self->bias, *p;
    if (host->tensor_ndim(q) != 4 || t < 1 || t > self->block_size) {
        aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                    "q must be [batch, heads, seq, head_dim] with 1 <= seq <= block_size (%lld)",
                    (long long)self->block_size);
        return NULL;
    }
    if (heads != self->n_head) {
        aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                    "q has %lld heads, the instance was created for %lld", (long long)heads,
                    (long long)self->n_head);
        return NULL;
    }
    if (t < self->block_size) { /* the top-left [T, T] block of every head */
        bias = host->slice(ctx, bias, 1, 0, t);
        bias = host->slice(ctx, bias, 2, 0, t);
    }
    s = host->matmul(ctx, q, k, 0, 1);                   /* [B, H, T, T] */
    s = host->affine(ctx, s, self->scale, 0.0);
    s = host->add(ctx, s, bias);                         /* broadcasts over the batch */
    p = host->softmax(ctx, s, AGLM_MASK_CAUSAL);
    return host->matmul(ctx, p, v, 0, 0);                /* [B, H, T, D], NULL on any error */
}

/** decode: the new positions against the host's cache, scores biased by -m_h (p - j). */
static aglm_status alibi_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const alibi *self = (const alibi *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = o.kv_heads = self->n_head;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    o.slopes = self->slopes;
    return aglm_decode(host, ctx, args, &o);
}

/** The attention vtable (static: the host keeps the pointer). Path (a), plus decode. */
static const aglm_attention_vtable alibi_vtable = {
    sizeof(aglm_attention_vtable), alibi_forward, NULL, NULL, NULL, alibi_decode,
};

/** init: registers the "alibi" attention. */
static aglm_status alibi_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "alibi",
                       "causal attention with ALiBi linear distance biases (use without position embeddings)",
                       "1.0.0", AGLM_SCHEMA(alibi_params), alibi_create, alibi_destroy,
                       &alibi_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-alibi", "1.0.0", alibi_init);
