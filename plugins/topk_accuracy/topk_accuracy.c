/*
 * topk_accuracy — evaluator reporting next-token top-k accuracy: the share of positions whose
 * target token is among the k most likely next tokens,
 *
 *     topk_accuracy = (1 / N) * sum_i [ rank_i(targets[i]) < k ]
 *
 * where rank_i(t) is the number of tokens ranked before t in row i of the logits, over all N
 * positions seen since the last reset.
 *
 * Ties. Tokens are ranked by (logit descending, token id ascending), the order shared by the
 * bundled evaluators (plugins/common/aglm_metric_util.h), so the top k is always exactly k
 * tokens: a target whose logit ties with the k-th largest counts as correct only if it would be
 * within the first k of that stable order, i.e. if fewer than k tokens have a larger logit or an
 * equal logit and a lower id. Example: logits [1, 3, 3, 2] with k = 2 rank the ids 1, 2, 3, 0:
 * target 2 is a hit, target 3 is not; with k = 1 only target 1 is a hit. NaN logits rank after
 * every number. With k = 1 this is exactly the `accuracy` evaluator; with k >= vocab every
 * position is a hit.
 *
 * The sufficient statistics are two integer counts, so the result is exactly the same however
 * the evaluation data is split into batches.
 *
 * Parameters:
 *   k   int in [1, 1000000], default 5: a position counts if its target ranks within the first k.
 *
 * Emits: "top<k>_accuracy", e.g. "top5_accuracy" (reported by the host as "val/top5_accuracy").
 *
 * Inputs (validated on every update, nothing is added from an invalid batch): logits float32
 * [n, vocab], targets int32 [n] with every value in [0, vocab), both dense.
 */
#include "../common/aglm_metric_util.h"

#include <stdio.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec topk_params[] = {
    AGLM_PARAM_INT_SPEC("k", 5, 1, 1000000,
                        "a position counts as correct if its target ranks within the first k "
                        "(ties broken toward the lower token id)"),
};

/** One instance: its parameter, metric name and the accumulated counts. */
typedef struct topk_accuracy {
    int64_t k;
    char metric[40]; /* "top<k>_accuracy" */
    int64_t hits;    /* positions whose target ranks < k */
    int64_t total;   /* positions accumulated */
} topk_accuracy;

/** create: copies k and builds the metric name. */
static aglm_status topk_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    topk_accuracy *self;
    (void)info;
    (void)layout;
    self = (topk_accuracy *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->k = aglm_param_i64(host, params, "k");
    if (self->k < 1) {
        free(self);
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "k must be >= 1");
    }
    snprintf(self->metric, sizeof self->metric, "top%lld_accuracy", (long long)self->k);
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void topk_destroy(void *instance) { free(instance); }

/** reset: clears the counts. */
static aglm_status topk_reset(void *instance, aglm_ctx *ctx) {
    topk_accuracy *self = (topk_accuracy *)instance;
    (void)ctx;
    self->hits = 0;
    self->total = 0;
    return AGLM_OK;
}

/** update: validates the batch and counts the positions whose target ranks within k. */
static aglm_status topk_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                               const aglm_view *targets) {
    topk_accuracy *self = (topk_accuracy *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i, hits = 0;
    aglm_status st = aglm_metric_check_batch(host, ctx, logits, targets, &n, &vocab);
    if (st != AGLM_OK) return st;
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) hits += aglm_metric_rank(x + i * vocab, vocab, t[i]) < self->k;
    self->hits += hits;
    self->total += n;
    return AGLM_OK;
}

/** compute: emits "top<k>_accuracy" over everything accumulated since the last reset. */
static aglm_status topk_compute(void *instance, aglm_ctx *ctx) {
    const topk_accuracy *self = (const topk_accuracy *)instance;
    if (self->total == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    host->emit_metric(ctx, self->metric, (double)self->hits / (double)self->total);
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable topk_vtable = {
    sizeof(aglm_evaluator_vtable), topk_reset, topk_update, topk_compute,
};

/** init: registers the "topk_accuracy" evaluator. */
static aglm_status topk_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "topk_accuracy",
                       "next-token top-k accuracy (target among the k highest logits, stable ties)",
                       "1.0.0", AGLM_SCHEMA(topk_params), topk_create, topk_destroy, &topk_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-topk-accuracy", "1.0.0", topk_init);
