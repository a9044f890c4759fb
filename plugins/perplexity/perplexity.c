/*
 * perplexity — evaluator reporting the mean negative log-likelihood of the targets and its
 * exponential, the perplexity:
 *
 *     nll        = (1 / N) * sum_i ( logsumexp(logits[i, :]) - logits[i, targets[i]] )
 *     perplexity = exp(nll)
 *
 * over all N tokens seen since the last reset. Each row's log-sum-exp is computed stably
 * (max-shifted) in double; the total is kept with compensated (Kahan–Neumaier) summation, so
 * the result does not depend on how the evaluation data was split into batches (beyond the
 * last bits of a double). Every token weighs the same, so batches of different sizes combine
 * correctly.
 *
 * Emits: "perplexity" and "nll". No parameters.
 *
 * Inputs (validated on every update): logits float32 [n, vocab], targets int32 [n] with every
 * value in [0, vocab), both dense. A NaN or infinite logit makes the metrics NaN/inf rather
 * than an error, so a diverged run still reports.
 */
#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accumulated statistics: a compensated sum of the per-token NLL, and the token count. */
typedef struct perplexity {
    double sum;          /* running sum of NLL */
    double compensation; /* Neumaier correction term for `sum` */
    int64_t count;       /* tokens accumulated */
} perplexity;

/** Adds x to the compensated sum (Neumaier's variant of Kahan summation). */
static void add_compensated(perplexity *self, double x) {
    double t = self->sum + x;
    if (fabs(self->sum) >= fabs(x))
        self->compensation += (self->sum - t) + x;
    else
        self->compensation += (x - t) + self->sum;
    self->sum = t;
}

/** -log softmax(row)[target], computed as logsumexp(row) - row[target] in double. */
static double row_nll(const float *row, int64_t vocab, int32_t target) {
    double max = -INFINITY, total = 0.0;
    int64_t j;
    for (j = 0; j < vocab; ++j)
        if (row[j] > max) max = row[j];
    if (!isfinite(max)) return max - (double)row[target]; /* inf, or NaN (also for all -inf) */
    for (j = 0; j < vocab; ++j) total += exp((double)row[j] - max);
    return max + log(total) - (double)row[target];
}

/** create: a zeroed accumulator. */
static aglm_status ppl_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    (void)params;
    (void)info;
    (void)layout;
    *instance = aglm_calloc(host, ctx, sizeof(perplexity));
    return *instance != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

/** destroy: frees the accumulator. */
static void ppl_destroy(void *instance) { free(instance); }

/** reset: clears the accumulated statistics. */
static aglm_status ppl_reset(void *instance, aglm_ctx *ctx) {
    perplexity *self = (perplexity *)instance;
    (void)ctx;
    self->sum = 0.0;
    self->compensation = 0.0;
    self->count = 0;
    return AGLM_OK;
}

/** update: validates one batch and adds its tokens. Nothing is added if the batch is invalid. */
static aglm_status ppl_update(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                              const aglm_view *targets) {
    perplexity *self = (perplexity *)instance;
    const float *x;
    const int32_t *t;
    int64_t n, vocab, i;
    aglm_status st;

    if ((st = aglm_check_view(host, ctx, logits, "logits", AGLM_DTYPE_FLOAT, 2)) ||
        (st = aglm_check_view(host, ctx, targets, "targets", AGLM_DTYPE_INT, 1)))
        return st;
    n = logits->shape[0];
    vocab = logits->shape[1];
    if (targets->shape[0] != n)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "logits has %lld rows but targets has %lld entries", (long long)n,
                           (long long)targets->shape[0]);
    if (n > 0 && vocab < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "logits has an empty vocabulary dimension");
    x = (const float *)logits->data;
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i)
        if (t[i] < 0 || t[i] >= vocab)
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "targets[%lld] = %ld is outside the vocabulary [0, %lld)",
                               (long long)i, (long)t[i], (long long)vocab);
    for (i = 0; i < n; ++i) add_compensated(self, row_nll(x + i * vocab, vocab, t[i]));
    self->count += n;
    return AGLM_OK;
}

/** compute: emits "perplexity" and "nll" for the tokens accumulated since the last reset. */
static aglm_status ppl_compute(void *instance, aglm_ctx *ctx) {
    const perplexity *self = (const perplexity *)instance;
    double nll;
    if (self->count == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                           "no tokens to evaluate: update was not called since the last reset");
    nll = (self->sum + self->compensation) / (double)self->count;
    host->emit_metric(ctx, "perplexity", exp(nll));
    host->emit_metric(ctx, "nll", nll);
    return AGLM_OK;
}

/** The evaluator vtable (static: the host keeps the pointer). */
static const aglm_evaluator_vtable ppl_vtable = {
    sizeof(aglm_evaluator_vtable), ppl_reset, ppl_update, ppl_compute,
};

/** init: registers the "perplexity" evaluator. */
static aglm_status ppl_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "perplexity",
                       "token-weighted mean NLL and perplexity of the targets", "1.0.0",
                       AGLM_NO_PARAMS, ppl_create, ppl_destroy, &ppl_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-perplexity", "1.0.0", ppl_init);
