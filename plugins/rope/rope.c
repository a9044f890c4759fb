/*
 * rope — causal multi-head attention with rotary position embeddings (RoPE: Su et al. 2021,
 * "RoFormer: Enhanced Transformer with Rotary Position Embedding", arXiv:2104.09864), in the
 * rotate-half form of GPT-NeoX and LLaMA:
 *
 *     theta_i = base^(-2i / D),  i < D/2              (D = head_dim, even)
 *     R_p x   = x * cos(p theta) + rotate_half(x) * sin(p theta),
 *               rotate_half([x1, x2]) = [-x2, x1]      (x1, x2: the two halves of x)
 *     s_ij    = scale * (R_i q_i) . (R_j k_j)          which depends on q, k and i - j only
 *     out     = softmax_causal(s) @ v
 *
 * (cos and sin are repeated over both halves: pair (i, i + D/2) turns by the angle p theta_i.)
 * Query and key are rotated to their positions before the dot product; values are not.
 *
 * USE IT WITHOUT POSITION EMBEDDINGS: set `model.position_embedding: false`. The rotation
 * carries the position information (RoFormer and LLaMA add no absolute embedding); with learned
 * absolute embeddings still on it trains, but is no longer RoPE as published.
 *
 * Composed from host ops (path (a)), so the host's autograd derives the backward (the inverse
 * rotation of the gradients). Two ways to rotate, same result (`rotation`):
 *   "op"      the host's fused rotary op (ABI 1.2), one pass per q and k, no table;
 *   "tables"  composed from slice, concat, affine, mul and add with cos/sin tables
 *             [block_size, head_dim] built once in create as persistent constants (ABI 1.2
 *             constant_new) and sliced to the sequence length: the reference the op is checked
 *             against, and an example of constants.
 * With kv_heads < n_head it is grouped-query attention (keys rotated before being shared).
 * Sampling decodes incrementally (ABI 1.2 `decode`, plugins/common/aglm_decode_util.h): the
 * host's cache holds rotated keys, and each new query is rotated to its position.
 *
 * Parameters:
 *   base      float, default 10000, > 0 (exclusive bound in the schema): the RoPE base.
 *   scale     float, default 0, >= 0: factor applied to q.k; 0 means 1 / sqrt(head_dim).
 *   kv_heads  int, default 0, 0..65536: key/value heads; 0 means n_head; must divide n_head.
 *   rotation  choice "op" | "tables", default "op" (see above).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accepted values of `rotation`. */
static const char *const rope_rotations[] = {"op", "tables", NULL};

/** Parameter schema. */
static const aglm_param_spec rope_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("base", 10000.0, 0.0, INFINITY, AGLM_OPEN_MIN,
                                "RoPE base: pair i of a head turns by position * base^(-2i/head_dim)"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the softmax; 0 means 1/sqrt(head_dim)"),
    AGLM_PARAM_INT_SPEC("kv_heads", 0, 0, 65536,
                        "key/value heads (grouped-query attention); 0 means n_head; must divide n_head"),
    AGLM_PARAM_CHOICE_SPEC("rotation", "op", rope_rotations,
                           "op: the host's fused rotary op; tables: slice/concat/mul with constant cos/sin tables"),
};

/** One instance (one per transformer block). */
typedef struct rope {
    int64_t n_head, kv_heads, head_dim, block_size;
    double base, scale;
    aglm_tensor *cos, *sin; /* "tables": constants [block_size, head_dim]; NULL with "op" */
} rope;

/** Builds the cos and sin tables (angles in double, rounded to float once, each repeated over
 *  both halves) as persistent constants. Returns 0 on failure (message set). */
static int rope_build_tables(rope *self, aglm_ctx *ctx) {
    const int64_t t = self->block_size, d = self->head_dim, half = d / 2;
    const int64_t shape[2] = {t, d};
    float *c = (float *)aglm_calloc(host, ctx, (size_t)(2 * t * d) * sizeof(float));
    float *s = c + t * d;
    int64_t p, i;
    if (c == NULL) return 0;
    for (p = 0; p < t; ++p)
        for (i = 0; i < half; ++i) {
            const double angle = (double)p * pow(self->base, -2.0 * (double)i / (double)d);
            c[p * d + i] = c[p * d + i + half] = (float)cos(angle);
            s[p * d + i] = s[p * d + i + half] = (float)sin(angle);
        }
    self->cos = host->constant_new(ctx, 2, shape, c);
    self->sin = host->constant_new(ctx, 2, shape, s);
    free(c);
    return self->cos != NULL && self->sin != NULL;
}

/** destroy: frees the instance (the host frees the constants). */
static void rope_destroy(void *instance) { free(instance); }

/** create: checks the shape, resolves scale and kv_heads, builds the tables if asked. */
static aglm_status rope_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    aglm_attention_layout *lay = (aglm_attention_layout *)layout;
    const double scale = aglm_param_f64(host, params, "scale");
    int64_t kv = aglm_param_i64(host, params, "kv_heads");
    const int tables = strcmp(aglm_param_str(host, params, "rotation"), "tables") == 0;
    rope *self;
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, block_size) || ai->head_dim < 1 || ai->n_head < 1 ||
        ai->block_size < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim, block_size)");
    if (ai->head_dim % 2 != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "head_dim = %lld is odd: rotary embeddings turn pairs of features "
                           "(choose model.n_embd / model.n_head even)",
                           (long long)ai->head_dim);
    if (kv == 0) kv = ai->n_head;
    if (kv > ai->n_head || ai->n_head % kv != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "kv_heads = %lld must divide n_head = %lld", (long long)kv,
                           (long long)ai->n_head);
    if (!AGLM_HAS_FIELD(lay, aglm_attention_layout, kv_heads))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "the host offers no attention layout");
    self = (rope *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->n_head = ai->n_head;
    self->kv_heads = kv;
    self->head_dim = ai->head_dim;
    self->block_size = ai->block_size;
    self->base = aglm_param_f64(host, params, "base"); /* > 0: the schema's bound */
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    if (tables && !rope_build_tables(self, ctx)) {
        free(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    lay->kv_heads = kv;
    *instance = self;
    return AGLM_OK;
}

/** x [B, h, T, D] rotated to positions 0 .. T-1 through the tables: x cos + rotate_half(x) sin. */
static aglm_tensor *rope_rotate_tables(const rope *self, aglm_ctx *ctx, aglm_tensor *x, int64_t t) {
    const int64_t half = self->head_dim / 2;
    aglm_tensor *c = self->cos, *s = self->sin, *parts[2];
    if (t < self->block_size) { /* rows 0 .. T-1 of the tables */
        c = host->slice(ctx, c, 0, 0, t);
        s = host->slice(ctx, s, 0, 0, t);
    }
    parts[0] = host->affine(ctx, host->slice(ctx, x, -1, half, half), -1.0, 0.0); /* -x2 */
    parts[1] = host->slice(ctx, x, -1, 0, half);                                  /*  x1 */
    return host->add(ctx, host->mul(ctx, x, c), host->mul(ctx, host->concat(ctx, 2, parts, -1), s));
}

/** forward: q [B, H, T, D], k, v [B, KV, T, D] -> softmax_causal(scale R q (R k)^T) v. */
static aglm_tensor *rope_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                 aglm_tensor *v) {
    const rope *self = (const rope *)instance;
    const int64_t t = host->tensor_dim(q, -2), heads = host->tensor_dim(q, 1);
    const int64_t kv = host->tensor_dim(k, 1);
    aglm_tensor *s, *p;
    if (host->tensor_ndim(q) != 4 || host->tensor_ndim(k) != 4 || t < 1 || t > self->block_size) {
        aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                    "q and k must be [batch, heads, seq, head_dim] with 1 <= seq <= block_size (%lld)",
                    (long long)self->block_size);
        return NULL;
    }
    if (heads != self->n_head || kv != self->kv_heads) {
        aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                    "expected %lld query and %lld key/value heads, got %lld and %lld",
                    (long long)self->n_head, (long long)self->kv_heads, (long long)heads, (long long)kv);
        return NULL;
    }
    if (self->cos != NULL) {
        q = rope_rotate_tables(self, ctx, q, t);
        k = rope_rotate_tables(self, ctx, k, t);
    } else {
        q = host->rotary(ctx, q, 0, self->base);
        k = host->rotary(ctx, k, 0, self->base);
    }
    if (heads != kv) {
        k = host->repeat_interleave(ctx, k, 1, heads / kv); /* [B, H, T, D] */
        v = host->repeat_interleave(ctx, v, 1, heads / kv);
    }
    s = host->matmul(ctx, q, k, 0, 1); /* [B, H, T, T] */
    s = host->affine(ctx, s, self->scale, 0.0);
    p = host->softmax(ctx, s, AGLM_MASK_CAUSAL);
    return host->matmul(ctx, p, v, 0, 0); /* [B, H, T, D], NULL on any error */
}

/** decode: the new positions against the host's cache (which holds rotated keys). */
static aglm_status rope_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const rope *self = (const rope *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = self->n_head;
    o.kv_heads = self->kv_heads;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    o.rope_base = self->base;
    return aglm_decode(host, ctx, args, &o);
}

/** The attention vtable (static: the host keeps the pointer). Path (a), plus decode. */
static const aglm_attention_vtable rope_vtable = {
    sizeof(aglm_attention_vtable), rope_forward, NULL, NULL, NULL, rope_decode,
};

/** init: registers the "rope" attention. */
static aglm_status rope_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "rope",
                       "causal attention with rotary position embeddings (RoPE; use without position embeddings)",
                       "1.0.0", AGLM_SCHEMA(rope_params), rope_create, rope_destroy, &rope_vtable);
    return host->register_component(ctx, &d);
}

/* Needs the 1.2 host ops (rotary, slice, constants, decode), nothing of 1.3. */
AGLM_DEFINE_PLUGIN_EX("autoglm-builtin-rope", "1.0.0", 2, rope_init);
