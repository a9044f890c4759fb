extension ScaffoldSources {
    /// Top-k accuracy.
    static let evaluator = #"""
/*
 * @NAME@ — an AutoGLM evaluator plugin: top-k accuracy, the fraction of positions whose target
 * token is among the k most likely (ties counted in the target's favour):
 *
 *     hit(i) = #{ j : logits[i, j] > logits[i, target[i]] } < k
 *     @NAME@ = (sum of hits) / (positions seen)
 *
 * An evaluator accumulates counts over the evaluation's batches (update), reports at the end
 * (compute) and starts again after reset, so the result does not depend on how the positions
 * were split into batches (`make check` tests that). The metric is logged as val/@NAME@.
 *
 * Parameters (config: `evaluators: [perplexity, @NAME@]`, `params: { @NAME@: { k: 1 } }`):
 *   k  int, default 1, in [1, 1000]: how many of the most likely tokens count as a hit.
 */
#include <autoglm/helpers.h>

#include <stdlib.h>

/* The host's function table, kept from init: valid for the life of the process. */
static const aglm_host_api *host;

/* The parameter schema: the host validates the config against it and applies the defaults. */
static const aglm_param_spec schema[] = {
    AGLM_PARAM_INT_SPEC("k", 1, 1, 1000, "how many of the most likely tokens count as a hit"),
};

/* One instance: the parameter and the counts since the last reset. */
typedef struct evaluator {
    int64_t k;
    int64_t hits, positions;
} evaluator;

/* create: `params` is borrowed for this call only, so copy the values out. */
static aglm_status evaluator_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                    void *layout, void **instance) {
    evaluator *self;
    (void)info;
    (void)layout;
    self = (evaluator *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->k = aglm_param_i64(host, params, "k");
    *instance = self; /* plugin-owned until destroy */
    return AGLM_OK;
}

/* destroy: frees the instance. */
static void evaluator_destroy(void *instance) { free(instance); }

/* reset: forgets the counts. */
static aglm_status evaluator_reset(void *instance, aglm_ctx *ctx) {
    evaluator *self = (evaluator *)instance;
    (void)ctx;
    self->hits = 0;
    self->positions = 0;
    return AGLM_OK;
}

/* update: one batch; logits [n, vocab] float32 and targets [n] int32 are borrowed views. Nothing
 * is counted if the batch is invalid. */
static aglm_status evaluator_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                                    const aglm_view *targets) {
    evaluator *self = (evaluator *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i, j, hits = 0;
    aglm_status st;
    if ((st = aglm_check_view(host, ctx, logits, "logits", AGLM_DTYPE_FLOAT, 2)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, targets, "targets", AGLM_DTYPE_INT, 1)) != AGLM_OK)
        return st;
    n = logits->shape[0];
    vocab = logits->shape[1];
    if (targets->shape[0] != n)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "logits has %lld rows but targets has %lld entries", (long long)n,
                           (long long)targets->shape[0]);
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) {
        const float *row = x + i * vocab;
        int64_t above = 0;
        if (t[i] < 0 || t[i] >= vocab)
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "targets[%lld] = %ld is outside the vocabulary [0, %lld)",
                               (long long)i, (long)t[i], (long long)vocab);
        for (j = 0; j < vocab; ++j) above += row[j] > row[t[i]];
        hits += above < self->k;
    }
    self->hits += hits;
    self->positions += n;
    return AGLM_OK;
}

/* compute: reports the metric with emit_metric (the host names it val/@NAME@); does not reset. */
static aglm_status evaluator_compute(void *instance, aglm_ctx *ctx) {
    const evaluator *self = (const evaluator *)instance;
    if (self->positions == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "no positions seen since the last reset");
    host->emit_metric(ctx, "@NAME@", (double)self->hits / (double)self->positions);
    return AGLM_OK;
}

/* The vtable must outlive the process's use of the plugin: static storage. */
static const aglm_evaluator_vtable vtable = {
    sizeof(aglm_evaluator_vtable), evaluator_reset, evaluator_update, evaluator_compute,
};

/* init: registers the component (the descriptor may live on the stack: the host copies it). */
static aglm_status plugin_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "@NAME@", "top-k accuracy of the targets", "0.1.0",
                       AGLM_SCHEMA(schema), evaluator_create, evaluator_destroy, &vtable);
    return host->register_component(ctx, &d);
}

/* The one exported symbol, aglm_plugin_entry_v1: ABI version, plugin name and version, init. */
AGLM_DEFINE_PLUGIN("@NAME@", "0.1.0", plugin_init);

"""#
}
