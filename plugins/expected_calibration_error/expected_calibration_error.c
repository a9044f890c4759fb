/*
 * expected_calibration_error — evaluator reporting the expected calibration error (ECE) of the
 * top-1 next-token prediction, as defined by Naeini et al. (2015) and used by Guo et al., "On
 * Calibration of Modern Neural Networks" (ICML 2017, eq. 3):
 *
 *     conf_i = max_j softmax(logits[i, :])_j           (confidence of the top-1 prediction)
 *     acc_i  = [ argmax_j logits[i, j] == targets[i] ]
 *     B_b    = { i : conf_i in ( b/M, (b+1)/M ] },  b = 0 .. M-1   (M equal-width bins)
 *     ECE    = sum_b |acc(B_b) - conf(B_b)| * |B_b| / N
 *            = (1 / N) * sum_b | sum_{i in B_b} acc_i - sum_{i in B_b} conf_i |
 *
 * where acc(B_b) and conf(B_b) are the mean accuracy and mean confidence of bin b and N the
 * number of positions seen since the last reset; empty bins contribute nothing. Bins are
 * half-open on the left and closed on the right as in Guo et al. (a confidence of exactly 0.5
 * with M = 2 falls in the first bin); the bin index is ceil(conf * M) - 1 computed in double,
 * clamped to [0, M-1]. The confidence is computed in double as 1 / sum_j exp(x_j - max_j x_j);
 * the prediction follows the ranking order shared by the bundled evaluators
 * (plugins/common/aglm_metric_util.h): logit descending, then token id ascending.
 *
 * Sufficient statistics per bin: the count, the number of correct predictions and the sum of
 * confidences, accumulated position by position in input order, so the result is the same
 * however the data is split into batches (bit for bit: the additions happen in the same order).
 *
 * A row holding a NaN or +inf logit (or only -inf) has no defined confidence: it is counted,
 * and makes the reported ECE NaN until the next reset, so a diverged model does not look
 * calibrated.
 *
 * Parameters:
 *   bins   int in [1, 100000], default 15: number M of equal-width confidence bins on [0, 1].
 *
 * Emits: "ece" (reported by the host as "val/ece"), in [0, 1].
 *
 * Inputs (validated on every update, nothing is added from an invalid batch): logits float32
 * [n, vocab], targets int32 [n] with every value in [0, vocab), both dense.
 */
#include "../common/aglm_metric_util.h"

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec ece_params[] = {
    AGLM_PARAM_INT_SPEC("bins", 15, 1, 100000,
                        "number of equal-width bins of the top-1 confidence on (0, 1]"),
};

/** One instance: the bin statistics. */
typedef struct ece {
    int64_t bins;
    int64_t *count;   /* positions per bin */
    int64_t *correct; /* correct top-1 predictions per bin */
    double *conf_sum; /* sum of top-1 confidences per bin */
    int64_t total;    /* positions accumulated */
    int64_t undefined; /* positions whose confidence was undefined (NaN/inf logits) */
} ece;

/** destroy: frees the bins and the instance. */
static void ece_destroy(void *instance) {
    ece *self = (ece *)instance;
    if (self == NULL) return;
    free(self->count);
    free(self->correct);
    free(self->conf_sum);
    free(self);
}

/** create: allocates `bins` empty bins. */
static aglm_status ece_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    ece *self;
    (void)info;
    (void)layout;
    self = (ece *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->bins = aglm_param_i64(host, params, "bins");
    if (self->bins < 1 || self->bins > 100000) {
        ece_destroy(self);
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "bins must be in [1, 100000]");
    }
    self->count = (int64_t *)aglm_calloc(host, ctx, (size_t)self->bins * sizeof(int64_t));
    self->correct = (int64_t *)aglm_calloc(host, ctx, (size_t)self->bins * sizeof(int64_t));
    self->conf_sum = (double *)aglm_calloc(host, ctx, (size_t)self->bins * sizeof(double));
    if (self->count == NULL || self->correct == NULL || self->conf_sum == NULL) {
        ece_destroy(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    *instance = self;
    return AGLM_OK;
}

/** reset: empties every bin. */
static aglm_status ece_reset(void *instance, aglm_ctx *ctx) {
    ece *self = (ece *)instance;
    int64_t b;
    (void)ctx;
    for (b = 0; b < self->bins; ++b) {
        self->count[b] = 0;
        self->correct[b] = 0;
        self->conf_sum[b] = 0.0;
    }
    self->total = 0;
    self->undefined = 0;
    return AGLM_OK;
}

/** Bin of confidence `conf` in (0, 1]: ceil(conf * M) - 1, clamped to [0, M-1]. */
static int64_t bin_of(double conf, int64_t bins) {
    double b = ceil(conf * (double)bins) - 1.0;
    if (b < 0.0) return 0;
    if (b > (double)(bins - 1)) return bins - 1;
    return (int64_t)b;
}

/** update: validates the batch and adds each position to its confidence bin. */
static aglm_status ece_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                              const aglm_view *targets) {
    ece *self = (ece *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i;
    aglm_status st = aglm_metric_check_batch(host, ctx, logits, targets, &n, &vocab);
    if (st != AGLM_OK) return st;
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i) {
        const float *row = x + i * vocab;
        double conf = aglm_metric_max_prob(row, vocab);
        int64_t b;
        if (conf != conf) {
            self->undefined += 1;
            continue;
        }
        b = bin_of(conf, self->bins);
        self->count[b] += 1;
        self->correct[b] += aglm_metric_argmax(row, vocab) == (int64_t)t[i];
        self->conf_sum[b] += conf;
    }
    self->total += n;
    return AGLM_OK;
}

/** compute: emits "ece" over everything accumulated since the last reset. */
static aglm_status ece_compute(void *instance, aglm_ctx *ctx) {
    const ece *self = (const ece *)instance;
    double sum = 0.0;
    int64_t b;
    if (self->total == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    if (self->undefined > 0) {
        host->emit_metric(ctx, "ece", NAN);
        return AGLM_OK;
    }
    for (b = 0; b < self->bins; ++b)
        if (self->count[b] > 0) sum += fabs((double)self->correct[b] - self->conf_sum[b]);
    host->emit_metric(ctx, "ece", sum / (double)self->total);
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable ece_vtable = {
    sizeof(aglm_evaluator_vtable), ece_reset, ece_update, ece_compute,
};

/** init: registers the "expected_calibration_error" evaluator. */
static aglm_status ece_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "expected_calibration_error",
                       "expected calibration error of the top-1 confidence (equal-width bins)",
                       "1.0.0", AGLM_SCHEMA(ece_params), ece_create, ece_destroy, &ece_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-expected-calibration-error", "1.0.0", ece_init);
