/*
 * macro_f1 — evaluator reporting the macro-averaged F1 score of next-token prediction, treating
 * every token id as a class. With the top-1 prediction p_i = argmax_j logits[i, j] and the
 * target y_i, per class c:
 *
 *     tp_c = #{ i : p_i = c, y_i = c },  fp_c = #{ i : p_i = c, y_i != c },
 *     fn_c = #{ i : p_i != c, y_i = c },
 *     F1_c = 2 tp_c / (2 tp_c + fp_c + fn_c)        (= harmonic mean of precision and recall)
 *
 *     macro_f1 = (1 / |C|) * sum_{c in C} F1_c,   C = classes present in the targets or in the
 *                                                     predictions (tp_c + fp_c + fn_c > 0)
 *
 * over all positions seen since the last reset. This is sklearn.metrics.f1_score(y, p,
 * average="macro") with its default labels (the union of y and p). A class that is predicted
 * but never a target counts with F1 = 0; a class that is neither is left out. The prediction
 * follows the ranking order shared by the bundled evaluators (plugins/common/aglm_metric_util.h):
 * logit descending, then token id ascending (lowest id wins a tie, NaN ranks last).
 *
 * The sufficient statistics are integer confusion counts per class, so the result is exactly
 * the same however the evaluation data is split into batches. The vocabulary size is taken
 * from the first update after a reset and must not change until the next reset.
 *
 * Emits: "macro_f1" (reported by the host as "val/macro_f1"). No parameters.
 *
 * Inputs (validated on every update, nothing is added from an invalid batch): logits float32
 * [n, vocab], targets int32 [n] with every value in [0, vocab), both dense.
 */
#include "../common/aglm_metric_util.h"

#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accumulated confusion counts. */
typedef struct macro_f1 {
    int64_t vocab;    /* classes; 0 until the first update after a reset */
    int64_t capacity; /* allocated entries of each array */
    int64_t *tp, *fp, *fn;
    int64_t total;    /* positions accumulated */
} macro_f1;

/** create: an empty accumulator (no parameters). */
static aglm_status f1_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                             void *layout, void **instance) {
    (void)params;
    (void)info;
    (void)layout;
    *instance = aglm_calloc(host, ctx, sizeof(macro_f1));
    return *instance != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

/** destroy: frees the counts and the instance. */
static void f1_destroy(void *instance) {
    macro_f1 *self = (macro_f1 *)instance;
    free(self->tp);
    free(self->fp);
    free(self->fn);
    free(self);
}

/** reset: forgets the counts and the vocabulary size. */
static aglm_status f1_reset(void *instance, aglm_ctx *ctx) {
    macro_f1 *self = (macro_f1 *)instance;
    (void)ctx;
    self->vocab = 0;
    self->total = 0;
    return AGLM_OK;
}

/** Sets up zeroed counts for `vocab` classes, reusing the arrays when large enough. */
static aglm_status start(macro_f1 *self, aglm_ctx *ctx, int64_t vocab) {
    size_t bytes = (size_t)vocab * sizeof(int64_t);
    if (vocab > self->capacity) {
        free(self->tp);
        free(self->fp);
        free(self->fn);
        self->capacity = 0;
        self->tp = (int64_t *)aglm_calloc(host, ctx, bytes);
        self->fp = (int64_t *)aglm_calloc(host, ctx, bytes);
        self->fn = (int64_t *)aglm_calloc(host, ctx, bytes);
        if (self->tp == NULL || self->fp == NULL || self->fn == NULL) return AGLM_ERR_OUT_OF_MEMORY;
        self->capacity = vocab;
    } else {
        memset(self->tp, 0, bytes);
        memset(self->fp, 0, bytes);
        memset(self->fn, 0, bytes);
    }
    self->vocab = vocab;
    return AGLM_OK;
}

/** update: validates the batch and adds its confusion counts. */
static aglm_status f1_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                             const aglm_view *targets) {
    macro_f1 *self = (macro_f1 *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i;
    aglm_status st = aglm_metric_check_batch(host, ctx, logits, targets, &n, &vocab);
    if (st != AGLM_OK) return st;
    if (n == 0) return AGLM_OK;
    if (self->vocab == 0) {
        if ((st = start(self, ctx, vocab)) != AGLM_OK) return st;
    } else if (vocab != self->vocab) {
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "the vocabulary changed from %lld to %lld since the last reset",
                           (long long)self->vocab, (long long)vocab);
    }
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) {
        int64_t p = aglm_metric_argmax(x + i * vocab, vocab), y = t[i];
        if (p == y) {
            self->tp[y] += 1;
        } else {
            self->fp[p] += 1;
            self->fn[y] += 1;
        }
    }
    self->total += n;
    return AGLM_OK;
}

/** compute: emits "macro_f1" over everything accumulated since the last reset. */
static aglm_status f1_compute(void *instance, aglm_ctx *ctx) {
    const macro_f1 *self = (const macro_f1 *)instance;
    double sum = 0.0;
    int64_t c, present = 0;
    if (self->total == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    for (c = 0; c < self->vocab; ++c) {
        int64_t denom = 2 * self->tp[c] + self->fp[c] + self->fn[c];
        if (denom == 0) continue; /* neither a target nor a prediction */
        sum += 2.0 * (double)self->tp[c] / (double)denom;
        present += 1;
    }
    host->emit_metric(ctx, "macro_f1", sum / (double)present); /* present >= 1 as total > 0 */
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable f1_vtable = {
    sizeof(aglm_evaluator_vtable), f1_reset, f1_update, f1_compute,
};

/** init: registers the "macro_f1" evaluator. */
static aglm_status f1_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "macro_f1",
                       "macro-averaged F1 of the top-1 prediction over the token classes present",
                       "1.0.0", AGLM_NO_PARAMS, f1_create, f1_destroy, &f1_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-macro-f1", "1.0.0", f1_init);
