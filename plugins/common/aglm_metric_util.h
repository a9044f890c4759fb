/*
 * aglm_metric_util.h — plugin-internal helpers shared by the bundled evaluators and callbacks
 * (header-only; a folder holding only headers is not built as a plugin). Include it from a
 * plugin as `#include "../common/aglm_metric_util.h"`. Everything is `static inline`, so a
 * plugin still exports only `aglm_plugin_entry_v1`. Generic helpers (errors, views, parameters)
 * live in <autoglm/helpers.h>; this header only adds what several metric plugins share:
 *
 *   evaluators   aglm_metric_check_batch   validate logits [n, vocab] / targets [n] of an update
 *                aglm_metric_before        the stable ranking order of logits
 *                aglm_metric_rank          position of one entry of a row in that order
 *                aglm_metric_argmax        top-1 prediction in that order
 *                aglm_metric_max_prob      largest softmax probability of a row
 *   callbacks    aglm_metric_at            the i-th metric of the trainer state
 *                aglm_metric_find          look a metric up in the trainer state by name
 *                aglm_metric_missing       error naming a metric that was not reported
 *                aglm_format_double        shortest round-trip text of a double
 *                aglm_monitor_*            "best value so far" of a monitored metric (min/max
 *                                          mode, min_delta), with checkpoint serialisation
 *                aglm_state_put_* / aglm_state_reader   little-endian save_state/load_state I/O
 *
 * Ranking order. Every bundled evaluator ranks the entries of a logits row by
 * (logit descending, index ascending): of two equal logits the lower token id comes first, and
 * NaN ranks after every number (after -inf), NaNs among themselves by index. The top-1
 * prediction is therefore the lowest-index maximum, exactly like numpy.argmax / torch.argmax on
 * rows without NaN.
 */
#ifndef AGLM_METRIC_UTIL_H
#define AGLM_METRIC_UTIL_H

#include <autoglm/helpers.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------- */
/* Evaluators                                                                                    */
/* ------------------------------------------------------------------------------------------- */

/** Validates one evaluator batch: `logits` dense float32 [n, vocab], `targets` dense int32 [n]
 *  with the same n, vocab >= 1 when n > 0, and every target in [0, vocab). On success stores n
 *  and vocab; on failure sets a message naming the offending entry and returns its status. */
static inline aglm_status aglm_metric_check_batch(const aglm_host_api *host, aglm_ctx *ctx,
                                                  const aglm_view *logits,
                                                  const aglm_view *targets, int64_t *rows,
                                                  int64_t *vocab) {
    const int32_t *t;
    int64_t n, v, i;
    aglm_status st;
    *rows = 0;
    *vocab = 0;
    if ((st = aglm_check_view(host, ctx, logits, "logits", AGLM_DTYPE_FLOAT, 2)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, targets, "targets", AGLM_DTYPE_INT, 1)) != AGLM_OK)
        return st;
    n = logits->shape[0];
    v = logits->shape[1];
    if (targets->shape[0] != n)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "logits has %lld rows but targets has %lld entries", (long long)n,
                           (long long)targets->shape[0]);
    if (n > 0 && v < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "logits has an empty vocabulary dimension");
    t = (const int32_t *)targets->data;
    for (i = 0; i < n; ++i)
        if (t[i] < 0 || t[i] >= v)
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "targets[%lld] = %ld is outside the vocabulary [0, %lld)",
                               (long long)i, (long)t[i], (long long)v);
    *rows = n;
    *vocab = v;
    return AGLM_OK;
}

/** 1 if entry (a, i) comes before entry (b, j) in the ranking order (logit descending, index
 *  ascending, NaN after every number). */
static inline int aglm_metric_before(float a, int64_t i, float b, int64_t j) {
    if (a != a) return b != b && i < j; /* a NaN only precedes a later NaN */
    if (b != b) return 1;               /* every number precedes a NaN */
    return a > b || (a == b && i < j);
}

/** Number of entries of `row` that come before entry `index` in the ranking order: 0 for the
 *  top-1 prediction; the entry is in the top k exactly when its rank is < k. */
static inline int64_t aglm_metric_rank(const float *row, int64_t vocab, int64_t index) {
    const float x = row[index];
    int64_t j, rank = 0;
    if (x != x) {
        /* every number, and the NaNs at lower indices (row[index] itself counts for neither) */
        for (j = 0; j < vocab; ++j) rank += row[j] == row[j] || j < index;
        return rank;
    }
    for (j = 0; j < index; ++j) rank += row[j] >= x; /* equal logits at lower indices come first */
    for (j = index + 1; j < vocab; ++j) rank += row[j] > x;
    return rank;
}

/** The top-1 prediction: the first entry of `row` in the ranking order (the lowest index among
 *  the largest logits; index 0 for an all-NaN row). */
static inline int64_t aglm_metric_argmax(const float *row, int64_t vocab) {
    int64_t j, best = 0;
    for (j = 1; j < vocab; ++j)
        if (aglm_metric_before(row[j], j, row[best], best)) best = j;
    return best;
}

/** The largest softmax probability of `row`, max_j exp(x_j) / sum_k exp(x_k) =
 *  1 / sum_k exp(x_k - max), computed in double. NaN when the row holds a NaN or +inf or is all
 *  -inf (the distribution is then undefined). */
static inline double aglm_metric_max_prob(const float *row, int64_t vocab) {
    double max = -INFINITY, total = 0.0;
    int64_t j;
    for (j = 0; j < vocab; ++j) {
        if (row[j] != row[j]) return NAN;
        if (row[j] > max) max = row[j];
    }
    if (!isfinite(max)) return NAN;
    for (j = 0; j < vocab; ++j) total += exp((double)row[j] - max);
    return 1.0 / total;
}

/* ------------------------------------------------------------------------------------------- */
/* Callbacks: metrics of the trainer state                                                       */
/* ------------------------------------------------------------------------------------------- */

/** The i-th metric (i < state->metric_count) of the trainer's latest evaluation results.
 *  Steps through the array by the struct_size of its first element, as plugin.h requires. */
static inline const aglm_metric *aglm_metric_at(const aglm_trainer_state *state, size_t i) {
    size_t stride = state->metrics[0].struct_size;
    if (stride < sizeof(aglm_metric)) stride = sizeof(aglm_metric);
    return (const aglm_metric *)(const void *)((const unsigned char *)state->metrics + i * stride);
}

/** The metric called `name` in the trainer's latest evaluation results, or NULL. */
static inline const aglm_metric *aglm_metric_find(const aglm_trainer_state *state,
                                                  const char *name) {
    size_t i;
    if (state->metrics == NULL) return NULL;
    for (i = 0; i < state->metric_count; ++i) {
        const aglm_metric *m = aglm_metric_at(state, i);
        if (m->name != NULL && strcmp(m->name, name) == 0) return m;
    }
    return NULL;
}

/** Sets an error saying that metric `name` was not reported, listing those that were. */
static inline aglm_status aglm_metric_missing(const aglm_host_api *host, aglm_ctx *ctx,
                                              const aglm_trainer_state *state, const char *name) {
    char list[512];
    size_t i, used = 0, count = state->metrics != NULL ? state->metric_count : 0;
    list[0] = '\0';
    for (i = 0; i < count && used + 1 < sizeof list; ++i) {
        const aglm_metric *m = aglm_metric_at(state, i);
        int w = snprintf(list + used, sizeof list - used, "%s%s", i > 0 ? ", " : "",
                         m->name != NULL ? m->name : "?");
        if (w < 0) break;
        used += (size_t)w;
    }
    if (used >= sizeof list) used = sizeof list - 1;
    return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                       "monitored metric '%s' was not reported by the evaluation (reported: %s); "
                       "evaluator metrics are named \"val/<metric>\"",
                       name, count > 0 ? list : "none");
}

/** Writes `x` into `buf` with the fewest significant digits (15 to 17) that read back as the
 *  same double ("%.*g"); NaN and infinities as "nan", "inf" and "-inf". Returns `buf`. */
static inline const char *aglm_format_double(char *buf, size_t size, double x) {
    int digits;
    if (x != x) {
        snprintf(buf, size, "nan");
        return buf;
    }
    if (isinf(x)) {
        snprintf(buf, size, "%s", x > 0 ? "inf" : "-inf");
        return buf;
    }
    for (digits = 15; digits <= 17; ++digits) {
        snprintf(buf, size, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

/* ------------------------------------------------------------------------------------------- */
/* Callbacks: little-endian state I/O for save_state / load_state                                */
/* ------------------------------------------------------------------------------------------- */

/** Appends a little-endian u64 to the state being saved. */
static inline aglm_status aglm_state_put_u64(const aglm_host_api *host, aglm_ctx *ctx,
                                             uint64_t x) {
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; ++i) b[i] = (unsigned char)(x >> (8 * i));
    return host->write_state(ctx, b, sizeof b);
}

/** Appends a double (its IEEE-754 bits, little-endian) to the state being saved. */
static inline aglm_status aglm_state_put_f64(const aglm_host_api *host, aglm_ctx *ctx, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return aglm_state_put_u64(host, ctx, bits);
}

/** Appends a string as its length (u64) followed by its bytes (no NUL). */
static inline aglm_status aglm_state_put_str(const aglm_host_api *host, aglm_ctx *ctx,
                                             const char *s) {
    size_t n = strlen(s);
    aglm_status st = aglm_state_put_u64(host, ctx, (uint64_t)n);
    if (st != AGLM_OK || n == 0) return st;
    return host->write_state(ctx, s, n);
}

/** Appends the 8-byte header of a bundled callback's state: a 4-character magic and the format
 *  version as a little-endian u32. */
static inline aglm_status aglm_state_put_header(const aglm_host_api *host, aglm_ctx *ctx,
                                                const char magic[4], uint32_t version) {
    unsigned char b[8];
    int i;
    memcpy(b, magic, 4);
    for (i = 0; i < 4; ++i) b[4 + i] = (unsigned char)(version >> (8 * i));
    return host->write_state(ctx, b, sizeof b);
}

/** Reading cursor over the bytes given to load_state. Every read fails (returns 0) once the
 *  data is exhausted, so a truncated state is detected by checking the reads. */
typedef struct aglm_state_reader {
    const unsigned char *data;
    size_t size, pos;
} aglm_state_reader;

/** Reads a little-endian u64; 0 if fewer than 8 bytes remain. */
static inline int aglm_state_get_u64(aglm_state_reader *r, uint64_t *x) {
    uint64_t v = 0;
    int i;
    if (r->size - r->pos < 8) return 0;
    for (i = 0; i < 8; ++i) v |= (uint64_t)r->data[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    *x = v;
    return 1;
}

/** Reads a double written by aglm_state_put_f64. */
static inline int aglm_state_get_f64(aglm_state_reader *r, double *x) {
    uint64_t bits;
    if (!aglm_state_get_u64(r, &bits)) return 0;
    memcpy(x, &bits, sizeof *x);
    return 1;
}

/** Reads a string written by aglm_state_put_str into a new malloc'd, NUL-terminated block
 *  (caller-owned); 0 if truncated or out of memory. */
static inline int aglm_state_get_str(aglm_state_reader *r, char **out) {
    uint64_t n;
    char *s;
    if (!aglm_state_get_u64(r, &n) || n > r->size - r->pos) return 0;
    s = (char *)malloc((size_t)n + 1);
    if (s == NULL) return 0;
    memcpy(s, r->data + r->pos, (size_t)n);
    s[n] = '\0';
    r->pos += (size_t)n;
    *out = s;
    return 1;
}

/** Checks the header written by aglm_state_put_header. Sets a message and returns an error if
 *  the bytes are not `component`'s state or are of another format version. */
static inline aglm_status aglm_state_get_header(const aglm_host_api *host, aglm_ctx *ctx,
                                                aglm_state_reader *r, const char magic[4],
                                                uint32_t version, const char *component) {
    uint32_t got = 0;
    int i;
    if (r->size < 8 || memcmp(r->data, magic, 4) != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "not a %s state (%lu bytes)",
                           component, (unsigned long)r->size);
    for (i = 0; i < 4; ++i) got |= (uint32_t)r->data[4 + i] << (8 * i);
    if (got != version)
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "%s state format %lu is not supported (this plugin reads %lu)",
                           component, (unsigned long)got, (unsigned long)version);
    r->pos = 8;
    return AGLM_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* Callbacks: a monitored metric and its best value                                              */
/* ------------------------------------------------------------------------------------------- */

/** The best value so far of one monitored metric (e.g. "val/loss"). A value improves on the
 *  best when it is lower than best - min_delta (mode "min") or higher than best + min_delta
 *  (mode "max"); NaN never improves. Before the first evaluation the best is +inf (min) or
 *  -inf (max), so the first finite value always improves. */
typedef struct aglm_monitor {
    char *name;        /* metric name, plugin-owned copy */
    int maximize;      /* 1 for mode "max", 0 for "min" */
    double min_delta;  /* smallest change that counts as an improvement, >= 0 */
    double best;       /* best value so far */
    int64_t best_step; /* step of the best value, -1 before the first */
} aglm_monitor;

/** Initialises `m` from the callback's parameters (strings are copied). */
static inline aglm_status aglm_monitor_init(const aglm_host_api *host, aglm_ctx *ctx,
                                            aglm_monitor *m, const char *name, const char *mode,
                                            double min_delta) {
    memset(m, 0, sizeof *m);
    if (name[0] == '\0')
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "monitor must not be empty");
    if (strcmp(mode, "min") != 0 && strcmp(mode, "max") != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "mode must be \"min\" or \"max\", got \"%s\"", mode);
    if (!(min_delta >= 0.0) || !isfinite(min_delta))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "min_delta must be a finite number >= 0, got %g", min_delta);
    m->name = aglm_strdup(host, ctx, name);
    if (m->name == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    m->maximize = strcmp(mode, "max") == 0;
    m->min_delta = min_delta;
    m->best = m->maximize ? -INFINITY : INFINITY;
    m->best_step = -1;
    return AGLM_OK;
}

/** Frees what aglm_monitor_init allocated. */
static inline void aglm_monitor_free(aglm_monitor *m) {
    free(m->name);
    m->name = NULL;
}

/** Mode name of `m`. */
static inline const char *aglm_monitor_mode(const aglm_monitor *m) {
    return m->maximize ? "max" : "min";
}

/** 1 if `value` improves on the best by more than min_delta (see aglm_monitor). */
static inline int aglm_monitor_improves(const aglm_monitor *m, double value) {
    if (value != value) return 0;
    return m->maximize ? value > m->best + m->min_delta : value < m->best - m->min_delta;
}

/** At an EVALUATE event: reads the monitored metric (error with the list of reported metrics
 *  if it is missing), stores it in *value, sets *improved and, on an improvement, records it
 *  as the new best at state->step. */
static inline aglm_status aglm_monitor_observe(const aglm_host_api *host, aglm_ctx *ctx,
                                               aglm_monitor *m, const aglm_trainer_state *state,
                                               double *value, int *improved) {
    const aglm_metric *metric = aglm_metric_find(state, m->name);
    *value = NAN;
    *improved = 0;
    if (metric == NULL) return aglm_metric_missing(host, ctx, state, m->name);
    *value = metric->value;
    *improved = aglm_monitor_improves(m, metric->value);
    if (*improved) {
        m->best = metric->value;
        m->best_step = state->step;
    }
    return AGLM_OK;
}

/** Appends the monitor to the state being saved: mode (u64), best (f64), best_step (i64) and
 *  the metric name (length-prefixed). */
static inline aglm_status aglm_monitor_save(const aglm_host_api *host, aglm_ctx *ctx,
                                            const aglm_monitor *m) {
    aglm_status st;
    if ((st = aglm_state_put_u64(host, ctx, (uint64_t)m->maximize)) != AGLM_OK ||
        (st = aglm_state_put_f64(host, ctx, m->best)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)m->best_step)) != AGLM_OK)
        return st;
    return aglm_state_put_str(host, ctx, m->name);
}

/** Reads what aglm_monitor_save wrote. If the checkpoint monitored another metric or mode, the
 *  stored best does not apply: it is dropped (the monitor starts afresh), *same is set to 0
 *  and the caller should reset its own counters; otherwise *same is 1 and the best is restored.
 *  Returns an error (message set) for truncated data. */
static inline aglm_status aglm_monitor_load(const aglm_host_api *host, aglm_ctx *ctx,
                                            aglm_monitor *m, aglm_state_reader *r, int *same) {
    uint64_t mode, step;
    double best;
    char *name = NULL;
    *same = 0;
    if (!aglm_state_get_u64(r, &mode) || !aglm_state_get_f64(r, &best) ||
        !aglm_state_get_u64(r, &step) || !aglm_state_get_str(r, &name) || mode > 1) {
        free(name);
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "truncated or corrupt monitor state (%lu bytes)",
                           (unsigned long)r->size);
    }
    *same = strcmp(name, m->name) == 0 && (int)mode == m->maximize;
    if (*same) {
        m->best = best;
        m->best_step = (int64_t)step;
    } else {
        aglm_logf(host, ctx, AGLM_LOG_WARN,
                  "the checkpoint monitored %s (mode %s, best %g); this run monitors %s (mode %s): "
                  "starting afresh",
                  name, mode ? "max" : "min", best, m->name, aglm_monitor_mode(m));
        m->best = m->maximize ? -INFINITY : INFINITY;
        m->best_step = -1;
    }
    free(name);
    return AGLM_OK;
}

#endif /* AGLM_METRIC_UTIL_H */
