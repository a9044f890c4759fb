/*
 * Test fixture: an attention whose forward exercises one ABI 1.2 host op, chosen by its `op`
 * parameter, through the host table (as a plugin author calls it), so the host-side tests can
 * compare each op's values and gradients with AutoGLMCore's Ops called directly. Every output
 * has q's shape [B, H, T, D] (k and v have as many heads as q):
 *
 *   slice_concat  concat([slice(k, 2, 0, 1), slice(q, 2, 1, T - 1)], 2)
 *   concat3       concat([slice(q, -1, 0, 1), slice(q, -1, 0, D - 2), slice(q, -1, 0, 1)], -1)
 *                 (one handle twice)
 *   sin, cos      sin(q), cos(q)
 *   sqrt, rsqrt   sqrt(q * q + 0.5), rsqrt(q * q + 0.5)
 *   max_keep      q - max(q, -1, keepdim 1)
 *   max_drop      q + max(k, 0, keepdim 0)          ([H, T, D] broadcast over the batch)
 *   maximum       maximum(q, k)
 *   rotary        rotary(q, 3, 100)
 *
 * With `bad` > 0 the forward instead makes one call with invalid arguments and returns its
 * result (NULL, with the host's message), so the tests can read each op's argument checks:
 *   1 slice dim 7          2 slice past the end     3 concat count 0       4 concat parts NULL
 *   5 concat mismatched    6 max dim 9              7 rotary odd D          8 rotary offset -1
 *   9 rotary base 0       10 sin of NULL           11 constant_new in forward
 *  12 matmul inner mismatch
 */
#include <autoglm/helpers.h>

#include <string.h>

static const aglm_host_api *host;

static const char *const ops[] = {"slice_concat", "concat3", "sin", "cos", "sqrt", "rsqrt", "max_keep",
                                  "max_drop", "maximum", "rotary", NULL};

static const aglm_param_spec params[] = {
    AGLM_PARAM_CHOICE_SPEC("op", "sin", ops, "the op the forward exercises"),
    AGLM_PARAM_INT_SPEC("bad", 0, 0, 12, "0: valid call; N: invalid call number N"),
};

typedef struct probe {
    int op;
    int64_t bad;
} probe;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    probe *self = (probe *)aglm_calloc(host, ctx, sizeof *self);
    const char *op = aglm_param_str(host, p, "op");
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    while (ops[self->op] != NULL && strcmp(ops[self->op], op) != 0) ++self->op;
    self->bad = aglm_param_i64(host, p, "bad");
    *instance = self;
    return AGLM_OK;
}

static void destroy(void *instance) { free(instance); }

/** q * q + 0.5 */
static aglm_tensor *positive(aglm_ctx *ctx, aglm_tensor *q) { return host->affine(ctx, host->mul(ctx, q, q), 1.0, 0.5); }

static aglm_tensor *invalid(const probe *self, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k) {
    const int64_t d = host->tensor_dim(q, -1);
    const int64_t shape[2] = {2, 2};
    aglm_tensor *parts[2];
    switch (self->bad) {
    case 1: return host->slice(ctx, q, 7, 0, 1);
    case 2: return host->slice(ctx, q, -1, 1, d);
    case 3: return host->concat(ctx, 0, parts, 0);
    case 4: return host->concat(ctx, 2, NULL, 0);
    case 5:
        parts[0] = q;
        parts[1] = host->slice(ctx, k, 2, 0, 1);
        return host->concat(ctx, 2, parts, -1);
    case 6: return host->max(ctx, q, 9, 1);
    case 7: return host->rotary(ctx, host->slice(ctx, q, -1, 0, d - 1), 0, 10000.0);
    case 8: return host->rotary(ctx, q, -1, 10000.0);
    case 9: return host->rotary(ctx, q, 0, 0.0);
    case 10: return host->sin(ctx, NULL);
    case 11: return host->constant_new(ctx, 2, shape, NULL);
    default: return host->matmul(ctx, q, host->slice(ctx, k, -1, 0, d - 1), 0, 0);
    }
}

static aglm_tensor *forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k, aglm_tensor *v) {
    const probe *self = (const probe *)instance;
    const int64_t t = host->tensor_dim(q, 2), d = host->tensor_dim(q, 3);
    aglm_tensor *parts[3];
    (void)v;
    if (self->bad > 0) return invalid(self, ctx, q, k);
    switch (self->op) {
    case 0:
        parts[0] = host->slice(ctx, k, 2, 0, 1);
        parts[1] = host->slice(ctx, q, 2, 1, t - 1);
        return host->concat(ctx, 2, parts, 2);
    case 1:
        parts[0] = host->slice(ctx, q, -1, 0, 1);
        parts[1] = host->slice(ctx, q, -1, 0, d - 2);
        parts[2] = parts[0];
        return host->concat(ctx, 3, parts, -1);
    case 2: return host->sin(ctx, q);
    case 3: return host->cos(ctx, q);
    case 4: return host->sqrt(ctx, positive(ctx, q));
    case 5: return host->rsqrt(ctx, positive(ctx, q));
    case 6: return host->sub(ctx, q, host->max(ctx, q, -1, 1));
    case 7: return host->add(ctx, q, host->max(ctx, k, 0, 0));
    case 8: return host->maximum(ctx, q, k);
    default: return host->rotary(ctx, q, 3, 100.0);
    }
}

static const aglm_attention_vtable vtable = {sizeof(aglm_attention_vtable), forward, NULL, NULL, NULL, NULL};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_ATTENTION, "host_ops", "exercises one ABI 1.2 host op (test fixture)",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("host-ops", "1.0.0", init);
