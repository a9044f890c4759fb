/*
 * toy_metric.c — a complete, minimal AutoGLM plugin, written against the raw ABI (plugin.h
 * only; include/autoglm/helpers.h would shorten it). It registers one evaluator, "mean_logit",
 * that reports the mean of every logit it was shown, multiplied by its `scale` parameter.
 *
 * Build (from a directory holding this file and AutoGLM's include/, or point -I at it):
 *     cc -shared -fPIC -O2 -I include -o toy_metric.so toy_metric.c
 * Use: put toy_metric.so in a plugin directory (e.g. `--plugins DIR`) and select it in a config:
 *     evaluators: [perplexity, mean_logit]
 *     params:
 *       mean_logit: { scale: 2.0 }
 */
#include <autoglm/plugin.h>

#include <math.h>
#include <stdlib.h>

/* The host's function table, kept from init: it stays valid for the life of the process. */
static const aglm_host_api *host;

/* The parameter schema. The host validates the user's config against it (type, bounds,
 * unknown keys) and applies the default before `create` runs. */
static const aglm_param_spec params[] = {{
    sizeof(aglm_param_spec), "scale", AGLM_PARAM_FLOAT, "multiplies the reported mean",
    1.0, NULL, NULL, 0,           /* default 1.0 (default_number, _string, _list, _list_length) */
    -INFINITY, INFINITY, NULL, 0, /* no bounds, no choices, not a list */
    0, 0,                         /* bounds inclusive (min_exclusive, max_exclusive: ABI 1.2) */
}};

/* One instance: its parameter and the accumulated statistics. */
typedef struct mean_logit {
    double scale, sum;
    int64_t count;
} mean_logit;

/* create: `p` is borrowed for this call only, so copy the values out. */
static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout,
                          void **instance) {
    mean_logit *self = calloc(1, sizeof *self);
    (void)info; /* attention only */
    (void)layout;
    if (self == NULL) {
        host->set_error(ctx, "out of memory");
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    self->scale = host->param_number(p, "scale");
    *instance = self; /* plugin-owned until destroy */
    return AGLM_OK;
}

static void destroy(void *instance) { free(instance); }

static aglm_status reset(void *instance, aglm_ctx *ctx) {
    mean_logit *self = instance;
    (void)ctx;
    self->sum = 0;
    self->count = 0;
    return AGLM_OK;
}

/* update: logits is a borrowed float32 [n, vocab] view; check it before reading it. */
static aglm_status update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                          const aglm_view *targets) {
    mean_logit *self = instance;
    const float *x = logits->data;
    int64_t n, i;
    (void)targets;
    if (logits->dtype.code != AGLM_DTYPE_FLOAT || logits->dtype.bits != 32 || logits->ndim != 2 ||
        logits->strides[1] != 1 || logits->strides[0] != logits->shape[1]) {
        host->set_error(ctx, "logits must be a dense float32 [n, vocab] view");
        return AGLM_ERR_INVALID_ARGUMENT; /* the host adds the file, component and call */
    }
    n = logits->shape[0] * logits->shape[1];
    for (i = 0; i < n; ++i) self->sum += x[i];
    self->count += n;
    return AGLM_OK;
}

/* compute: report with emit_metric; do not reset. */
static aglm_status compute(void *instance, aglm_ctx *ctx) {
    mean_logit *self = instance;
    if (self->count == 0) {
        host->set_error(ctx, "no logits seen since the last reset");
        return AGLM_ERR_STATE;
    }
    host->emit_metric(ctx, "mean_logit", self->scale * self->sum / (double)self->count);
    return AGLM_OK;
}

/* The vtable must outlive the process's use of the plugin: static storage. */
static const aglm_evaluator_vtable vtable = {sizeof(aglm_evaluator_vtable), reset, update, compute};

/* init: register components by name. The descriptor may live on the stack (the host copies it). */
static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = {
        sizeof(aglm_component_desc), AGLM_KIND_EVALUATOR, "mean_logit",
        "mean of all logits, times scale (toy example)", "1.0.0",
        params, 1, create, destroy, NULL, NULL, &vtable, /* no save_state/load_state */
    };
    host = h;
    return host->register_component(ctx, &d);
}

/* The one exported symbol: ABI versions, plugin name and version, init. */
AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, 0, "toy-metric", "1.0.0", init,
    };
    return &entry;
}
