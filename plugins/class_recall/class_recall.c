/*
 * class_recall — evaluator reporting the per-class recall of chosen token ids (the "minority
 * class recall": how often the model predicts a rare token when it is the target),
 *
 *     recall_c = #{ i : targets[i] = c and argmax_j logits[i, j] = c } / #{ i : targets[i] = c }
 *
 * and their unweighted mean over the classes that had examples,
 *
 *     recall_mean = (1 / |C+|) * sum_{c in C+} recall_c,   C+ = { c in classes : support_c > 0 }
 *
 * over all positions seen since the last reset. The prediction is the top-1 token in the
 * ranking order shared by the bundled evaluators (plugins/common/aglm_metric_util.h): logit
 * descending, then token id ascending (lowest id wins a tie, NaN ranks last).
 *
 * A class with no example among the targets (support 0) has an undefined recall: it is
 * reported as NaN and left out of the mean; if no listed class had an example, the mean is NaN
 * too. (Predicting such a class is a false positive, which recall does not measure; see
 * macro_f1 for a metric that counts it.)
 *
 * The sufficient statistics are integer counts per class (support and hits), so the result is
 * exactly the same however the evaluation data is split into batches.
 *
 * Parameters:
 *   classes   float_list of token ids (integers in [0, 2147483647], no duplicates), default []:
 *             the classes to report, in this order. Every id must be inside the vocabulary;
 *             this is checked on each update (the vocabulary size is known only then). The
 *             empty default means every token id of the vocabulary, 0 .. vocab-1 (the mean is
 *             then the macro-averaged recall, a.k.a. balanced accuracy over the classes present).
 *
 * Emits: "recall/<id>" for each class, in order (e.g. "recall/7"; the host reports
 * "val/recall/7"), then "recall/mean".
 *
 * Inputs (validated on every update, nothing is added from an invalid batch): logits float32
 * [n, vocab], targets int32 [n] with every value in [0, vocab), both dense.
 */
#include "../common/aglm_metric_util.h"

#include <stdio.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Largest token id a class may name (targets are int32). */
#define RECALL_MAX_ID 2147483647.0

/** Parameter schema. The default list is empty, which aglm_param_spec allows but the
 *  AGLM_PARAM_FLOAT_LIST_SPEC macro (which takes an array) cannot express in C99. */
static const aglm_param_spec recall_params[] = {
    {sizeof(aglm_param_spec), "classes", AGLM_PARAM_FLOAT_LIST,
     "token ids whose recall is reported (integers, no duplicates); empty = every id of the "
     "vocabulary",
     0.0, NULL, NULL, 0, 0.0, RECALL_MAX_ID, NULL, 0, 0, 0},
};

/** One instance. */
typedef struct class_recall {
    int all;          /* 1: the `classes` list was empty, report every id of the vocabulary */
    int64_t count;    /* number of classes (for `all`, the vocabulary size of the last update) */
    int32_t *ids;     /* the class ids (count items) */
    int64_t *support; /* targets equal to ids[c] */
    int64_t *hits;    /* ... whose prediction was ids[c] */
    int64_t *slot;    /* token id -> index into ids, or -1; `slot_size` items */
    int64_t slot_size;
    int64_t total;    /* positions accumulated */
} class_recall;

/** destroy: frees the instance. */
static void recall_destroy(void *instance) {
    class_recall *self = (class_recall *)instance;
    if (self == NULL) return;
    free(self->ids);
    free(self->support);
    free(self->hits);
    free(self->slot);
    free(self);
}

/** (Re)allocates the per-class counts for `count` classes, zeroed. */
static aglm_status alloc_counts(class_recall *self, aglm_ctx *ctx, int64_t count) {
    free(self->support);
    free(self->hits);
    self->support = (int64_t *)aglm_calloc(host, ctx, (size_t)count * sizeof(int64_t));
    self->hits = (int64_t *)aglm_calloc(host, ctx, (size_t)count * sizeof(int64_t));
    if (self->support == NULL || self->hits == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    return AGLM_OK;
}

/** (Re)builds the id -> class index table for a vocabulary of `vocab` ids. */
static aglm_status build_slots(class_recall *self, aglm_ctx *ctx, int64_t vocab) {
    int64_t c, j;
    free(self->slot);
    self->slot = (int64_t *)malloc((size_t)vocab * sizeof(int64_t));
    self->slot_size = 0;
    if (self->slot == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory (vocabulary %lld)",
                           (long long)vocab);
    for (j = 0; j < vocab; ++j) self->slot[j] = -1;
    for (c = 0; c < self->count; ++c) self->slot[self->ids[c]] = c;
    self->slot_size = vocab;
    return AGLM_OK;
}

/** create: copies and checks the class list. */
static aglm_status recall_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                 void *layout, void **instance) {
    class_recall *self;
    double *list = NULL;
    size_t n, i, j;
    aglm_status st = AGLM_OK;
    (void)info;
    (void)layout;
    self = (class_recall *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    n = aglm_param_list(host, params, "classes", NULL, 0);
    self->all = n == 0;
    if (n > 0) {
        list = (double *)aglm_calloc(host, ctx, n * sizeof(double));
        self->ids = (int32_t *)aglm_calloc(host, ctx, n * sizeof(int32_t));
        if (list == NULL || self->ids == NULL) {
            st = AGLM_ERR_OUT_OF_MEMORY;
            goto fail;
        }
        aglm_param_list(host, params, "classes", list, n);
        for (i = 0; i < n; ++i) {
            if (!(list[i] >= 0.0 && list[i] <= RECALL_MAX_ID) || list[i] != floor(list[i])) {
                st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                 "classes[%lu] = %g is not a token id (an integer >= 0)",
                                 (unsigned long)i, list[i]);
                goto fail;
            }
            self->ids[i] = (int32_t)list[i];
            for (j = 0; j < i; ++j)
                if (self->ids[j] == self->ids[i]) {
                    st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                     "classes lists token id %ld twice (items %lu and %lu)",
                                     (long)self->ids[i], (unsigned long)j, (unsigned long)i);
                    goto fail;
                }
        }
        self->count = (int64_t)n;
        if ((st = alloc_counts(self, ctx, self->count)) != AGLM_OK) goto fail;
    }
    free(list);
    *instance = self;
    return AGLM_OK;
fail:
    free(list);
    recall_destroy(self);
    return st;
}

/** reset: clears the counts (with an empty `classes` list, the vocabulary is learned again at
 *  the next update). */
static aglm_status recall_reset(void *instance, aglm_ctx *ctx) {
    class_recall *self = (class_recall *)instance;
    int64_t c;
    (void)ctx;
    for (c = 0; c < self->count; ++c) self->support[c] = self->hits[c] = 0;
    self->total = 0;
    return AGLM_OK;
}

/** Prepares the class table for a batch of vocabulary `vocab`: checks the listed ids against it,
 *  or (empty list) sets the classes to 0..vocab-1, which must not change between a reset and
 *  compute. */
static aglm_status prepare(class_recall *self, aglm_ctx *ctx, int64_t vocab) {
    int64_t c;
    aglm_status st;
    if (self->slot != NULL && self->slot_size == vocab) return AGLM_OK;
    if (!self->all) {
        for (c = 0; c < self->count; ++c)
            if (self->ids[c] >= vocab)
                return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                   "classes[%lld] = %ld is outside the vocabulary [0, %lld)",
                                   (long long)c, (long)self->ids[c], (long long)vocab);
        return build_slots(self, ctx, vocab);
    }
    if (self->total > 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "the vocabulary changed from %lld to %lld since the last reset",
                           (long long)self->count, (long long)vocab);
    if (vocab > (int64_t)RECALL_MAX_ID + 1)
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "vocabulary of %lld ids is too large",
                           (long long)vocab);
    free(self->ids);
    self->ids = (int32_t *)aglm_calloc(host, ctx, (size_t)vocab * sizeof(int32_t));
    self->count = 0;
    if (self->ids == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    for (c = 0; c < vocab; ++c) self->ids[c] = (int32_t)c;
    if ((st = alloc_counts(self, ctx, vocab)) != AGLM_OK) return st;
    self->count = vocab;
    return build_slots(self, ctx, vocab);
}

/** update: validates the batch and counts support and hits of each listed class. */
static aglm_status recall_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                                 const aglm_view *targets) {
    class_recall *self = (class_recall *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i;
    aglm_status st = aglm_metric_check_batch(host, ctx, logits, targets, &n, &vocab);
    if (st != AGLM_OK) return st;
    if (n == 0) return AGLM_OK;
    if ((st = prepare(self, ctx, vocab)) != AGLM_OK) return st;
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) {
        int64_t c = self->slot[t[i]];
        if (c < 0) continue; /* not a listed class */
        self->support[c] += 1;
        self->hits[c] += aglm_metric_argmax(x + i * vocab, vocab) == (int64_t)t[i];
    }
    self->total += n;
    return AGLM_OK;
}

/** compute: emits "recall/<id>" per class and "recall/mean". */
static aglm_status recall_compute(void *instance, aglm_ctx *ctx) {
    const class_recall *self = (const class_recall *)instance;
    char name[48];
    double sum = 0.0;
    int64_t c, present = 0;
    if (self->total == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    for (c = 0; c < self->count; ++c) {
        double r = NAN;
        if (self->support[c] > 0) {
            r = (double)self->hits[c] / (double)self->support[c];
            sum += r;
            present += 1;
        }
        snprintf(name, sizeof name, "recall/%ld", (long)self->ids[c]);
        host->emit_metric(ctx, name, r);
    }
    host->emit_metric(ctx, "recall/mean", present > 0 ? sum / (double)present : NAN);
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable recall_vtable = {
    sizeof(aglm_evaluator_vtable), recall_reset, recall_update, recall_compute,
};

/** init: registers the "class_recall" evaluator. */
static aglm_status recall_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "class_recall",
                       "per-class recall of chosen token ids and their mean (minority class recall)",
                       "1.0.0", AGLM_SCHEMA(recall_params), recall_create, recall_destroy,
                       &recall_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-class-recall", "1.0.0", recall_init);
