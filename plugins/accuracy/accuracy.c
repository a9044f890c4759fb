/*
 * accuracy — evaluator reporting next-token top-1 accuracy: the share of positions whose
 * target token is the model's most likely next token,
 *
 *     accuracy = (1 / N) * sum_i [ argmax_j logits[i, j] == targets[i] ]
 *
 * over all N positions seen since the last reset. The argmax follows the ranking order shared
 * by the bundled evaluators (plugins/common/aglm_metric_util.h): logit descending, then token id
 * ascending, so of several tied maxima the lowest id is the prediction (as numpy/torch argmax);
 * NaN logits rank last. The sufficient statistics are two integer counts (hits, positions), so
 * the result is exactly the same however the evaluation data is split into batches.
 *
 * Emits: "accuracy" (the host reports it as "val/accuracy"). No parameters.
 *
 * Inputs (validated on every update, nothing is added from an invalid batch): logits float32
 * [n, vocab], targets int32 [n] with every value in [0, vocab), both dense.
 */
#include "../common/aglm_metric_util.h"

#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accumulated statistics. */
typedef struct accuracy {
    int64_t hits;  /* positions whose top-1 prediction is the target */
    int64_t total; /* positions accumulated */
} accuracy;

/** create: a zeroed accumulator (no parameters). */
static aglm_status acc_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    (void)params;
    (void)info;
    (void)layout;
    *instance = aglm_calloc(host, ctx, sizeof(accuracy));
    return *instance != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

/** destroy: frees the accumulator. */
static void acc_destroy(void *instance) { free(instance); }

/** reset: clears the counts. */
static aglm_status acc_reset(void *instance, aglm_ctx *ctx) {
    accuracy *self = (accuracy *)instance;
    (void)ctx;
    self->hits = 0;
    self->total = 0;
    return AGLM_OK;
}

/** update: validates the batch and counts its top-1 hits. */
static aglm_status acc_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                              const aglm_view *targets) {
    accuracy *self = (accuracy *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i, hits = 0;
    aglm_status st = aglm_metric_check_batch(host, ctx, logits, targets, &n, &vocab);
    if (st != AGLM_OK) return st;
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) hits += aglm_metric_argmax(x + i * vocab, vocab) == (int64_t)t[i];
    self->hits += hits;
    self->total += n;
    return AGLM_OK;
}

/** compute: emits "accuracy" over everything accumulated since the last reset. */
static aglm_status acc_compute(void *instance, aglm_ctx *ctx) {
    const accuracy *self = (const accuracy *)instance;
    if (self->total == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    host->emit_metric(ctx, "accuracy", (double)self->hits / (double)self->total);
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable acc_vtable = {
    sizeof(aglm_evaluator_vtable), acc_reset, acc_update, acc_compute,
};

/** init: registers the "accuracy" evaluator. */
static aglm_status acc_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "accuracy",
                       "next-token top-1 accuracy (share of targets that are the argmax)", "1.0.0",
                       AGLM_NO_PARAMS, acc_create, acc_destroy, &acc_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-accuracy", "1.0.0", acc_init);
