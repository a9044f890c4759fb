/*
 * sliding_window — causal multi-head attention restricted to a local window of keys (the local /
 * "sliding window" attention of Beltagy et al. 2020, "Longformer", arXiv:2004.05150, in its
 * causal one-sided form, as used by Mistral 7B):
 *
 *     s      = (q @ k^T) * scale                       [batch, n_head, seq, seq]
 *     s_ij   = -inf    unless  i - window < j <= i     (query i sees keys i-window+1 .. i)
 *     out    = softmax(s) @ v                          [batch, n_head, seq, head_dim]
 *
 * The window COUNTS THE QUERY ITSELF: query i sees exactly min(i + 1, window) keys, the newest
 * being key i. So window = 1 attends only to its own position (out_i = v_i) and window >= seq is
 * plain causal attention (causal_dense). This is the host's causal_mask(rows, cols, window),
 * which keeps j in (i - window, i].
 *
 * Composed from host ops (path (a): matmul, affine, causal_mask, masked_fill, softmax, matmul);
 * the host's autograd derives the backward, and masked scores get zero gradient. It uses as many
 * key/value heads as query heads. The scores are still materialised densely (O(seq^2) memory);
 * the window limits what each position sees, not the cost. Sampling decodes incrementally (ABI
 * 1.2 `decode`, plugins/common/aglm_decode_util.h): each new query reads its last `window`
 * cached keys.
 *
 * Parameters:
 *   window  int, default 32, >= 1: keys each query sees, its own position included.
 *   scale   float, default 0, >= 0: factor applied to q @ k^T; 0 means 1 / sqrt(head_dim).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_decode_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec window_params[] = {
    AGLM_PARAM_INT_SPEC("window", 32, 1, INFINITY,
                        "keys each query sees, its own position included (1 = only itself)"),
    AGLM_PARAM_FLOAT_SPEC("scale", 0.0, 0.0, INFINITY,
                          "multiplies q.k before the softmax; 0 means 1/sqrt(head_dim)"),
};

/** One instance (one per transformer block). */
typedef struct sliding_window {
    int64_t n_head, head_dim;
    int64_t window; /* keys per query, the query's own included */
    double scale;   /* resolved score scale */
} sliding_window;

/** create: reads the window and resolves the scale; keeps kv_heads = n_head. */
static aglm_status window_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                 void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    double scale = aglm_param_f64(host, params, "scale");
    int64_t window = aglm_param_i64(host, params, "window");
    sliding_window *self;
    (void)layout; /* keep the default: kv_heads = n_head */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1 || ai->n_head < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (n_head, head_dim)");
    self = (sliding_window *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->n_head = ai->n_head;
    self->head_dim = ai->head_dim;
    self->window = window; /* >= 1: the schema says so */
    self->scale = scale > 0.0 ? scale : 1.0 / sqrt((double)ai->head_dim);
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void window_destroy(void *instance) { free(instance); }

/** forward: q, k, v [B, H, T, D] -> softmax(windowed causal q k^T * scale) v. */
static aglm_tensor *window_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                                   aglm_tensor *v) {
    const sliding_window *self = (const sliding_window *)instance;
    const int64_t t = host->tensor_dim(q, -2); /* sequence length of this call */
    /* A window covering the whole sequence is plain causal attention: no mask to build. */
    const int64_t window = self->window >= t ? 0 : self->window;
    aglm_tensor *s, *keep, *p;
    if (t < 1) {
        host->set_error(ctx, "q must be [batch, heads, seq, head_dim] with seq >= 1");
        return NULL;
    }
    s = host->matmul(ctx, q, k, 0, 1);                    /* [B, H, T, T] */
    s = host->affine(ctx, s, self->scale, 0.0);
    if (window > 0) {
        keep = host->causal_mask(ctx, t, t, window);      /* 1 where i - window < j <= i */
        s = host->masked_fill(ctx, s, keep, -INFINITY);   /* broadcasts over B, H */
        p = host->softmax(ctx, s, AGLM_MASK_NONE);
    } else {
        p = host->softmax(ctx, s, AGLM_MASK_CAUSAL);
    }
    return host->matmul(ctx, p, v, 0, 0);                 /* [B, H, T, D], NULL on any error */
}

/** decode: the windowed attention of the new positions against the host's cache. */
static aglm_status window_decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *args) {
    const sliding_window *self = (const sliding_window *)instance;
    aglm_decode_opts o;
    memset(&o, 0, sizeof o);
    o.n_head = o.kv_heads = self->n_head;
    o.head_dim = self->head_dim;
    o.scale = self->scale;
    o.window = self->window;
    return aglm_decode(host, ctx, args, &o);
}

/** The attention vtable (static: the host keeps the pointer). Path (a), plus decode. */
static const aglm_attention_vtable window_vtable = {
    sizeof(aglm_attention_vtable), window_forward, NULL, NULL, NULL, window_decode,
};

/** init: registers the "sliding_window" attention. */
static aglm_status window_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "sliding_window",
                       "causal attention over the last `window` positions (query included)",
                       "1.0.0", AGLM_SCHEMA(window_params), window_create, window_destroy,
                       &window_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-sliding-window", "1.0.0", window_init);
