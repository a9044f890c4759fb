/*
 * early_stopping — callback that stops training when a monitored evaluation metric has not
 * improved for `patience` consecutive evaluations (the rule of Keras' EarlyStopping and of
 * Prechelt, "Early Stopping — But When?", 1998, with an absolute threshold):
 *
 *   at each EVALUATE event, with v the value of `monitor`:
 *     improved = v < best - min_delta   (mode "min")   or   v > best + min_delta   (mode "max")
 *     if improved:  best = v, wait = 0
 *     else:         wait = wait + 1;  if wait >= patience: control->stop = 1
 *
 * best starts at +inf (min) or -inf (max), so the first finite value is always an improvement;
 * NaN never improves. A stop ends training after the current step (the trainer then writes the
 * final weights and calls TRAIN_END). The monitored metric must be reported by every evaluation
 * (the host names them "val/loss" and "val/<evaluator metric>"); a missing one is an error
 * listing the metrics that were reported.
 *
 * Parameters:
 *   monitor     string, default "val/loss": the metric to watch.
 *   patience    int in [1, 1000000], default 3: evaluations without improvement before stopping.
 *   min_delta   float >= 0, default 0: smallest change of the metric that counts as improvement.
 *   mode        choice "min" | "max", default "min": whether lower or higher values are better.
 *
 * Checkpoint state (save_state/load_state, survives a resume): the best value, its step, the
 * wait count, the monitored name and mode. Format (little-endian): magic "ESTP", u32 version 1,
 * u64 mode (0 min, 1 max), f64 best, i64 best step, u64 name length + name bytes, i64 wait.
 * If the resumed run monitors another metric or mode, the stored best does not apply: it is
 * dropped with a warning and the counters start afresh.
 */
#include "../common/aglm_metric_util.h"

#include <inttypes.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accepted values of `mode`. */
static const char *const mode_choices[] = {"min", "max", NULL};

/** Parameter schema. */
static const aglm_param_spec es_params[] = {
    AGLM_PARAM_STRING_SPEC("monitor", "val/loss",
                           "metric to watch, e.g. val/loss or val/accuracy"),
    AGLM_PARAM_INT_SPEC("patience", 3, 1, 1000000,
                        "evaluations without improvement before training stops"),
    AGLM_PARAM_FLOAT_SPEC("min_delta", 0.0, 0.0, INFINITY,
                          "smallest change of the metric that counts as an improvement"),
    AGLM_PARAM_CHOICE_SPEC("mode", "min", mode_choices,
                           "min: lower values are better; max: higher values are better"),
};

/** Magic and version of the checkpointed state. */
static const char es_magic[4] = {'E', 'S', 'T', 'P'};
#define ES_STATE_VERSION 1u

/** One instance. */
typedef struct early_stopping {
    aglm_monitor monitor; /* metric, mode, min_delta, best value and step */
    int64_t patience;
    int64_t wait; /* evaluations since the last improvement */
} early_stopping;

/** destroy: frees the instance. */
static void es_destroy(void *instance) {
    early_stopping *self = (early_stopping *)instance;
    aglm_monitor_free(&self->monitor);
    free(self);
}

/** create: copies the parameters. */
static aglm_status es_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                             void *layout, void **instance) {
    early_stopping *self;
    aglm_status st;
    (void)info;
    (void)layout;
    self = (early_stopping *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    st = aglm_monitor_init(host, ctx, &self->monitor, aglm_param_str(host, params, "monitor"),
                           aglm_param_str(host, params, "mode"),
                           aglm_param_f64(host, params, "min_delta"));
    self->patience = aglm_param_i64(host, params, "patience");
    if (st == AGLM_OK && self->patience < 1)
        st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "patience must be >= 1");
    if (st != AGLM_OK) {
        es_destroy(self);
        return st;
    }
    *instance = self;
    return AGLM_OK;
}

/** on_event: at EVALUATE, updates best/wait and requests a stop when patience runs out. */
static aglm_status es_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                               const aglm_trainer_state *state, aglm_control *control) {
    early_stopping *self = (early_stopping *)instance;
    double value;
    int improved;
    aglm_status st;
    if (event != AGLM_EVENT_EVALUATE) return AGLM_OK; /* other (and future) events: nothing */
    st = aglm_monitor_observe(host, ctx, &self->monitor, state, &value, &improved);
    if (st != AGLM_OK) return st;
    if (improved) {
        self->wait = 0;
        return AGLM_OK;
    }
    self->wait += 1;
    if (self->wait >= self->patience) {
        aglm_logf(host, ctx, AGLM_LOG_INFO,
                  "%s = %g has not improved on %g (step %" PRId64 ", mode %s, min_delta %g) for "
                  "%" PRId64 " evaluations: stopping at step %" PRId64,
                  self->monitor.name, value, self->monitor.best, self->monitor.best_step,
                  aglm_monitor_mode(&self->monitor), self->monitor.min_delta, self->wait,
                  state->step);
        control->stop = 1;
    }
    return AGLM_OK;
}

/** save_state: header, monitor, wait. */
static aglm_status es_save_state(void *instance, aglm_ctx *ctx) {
    const early_stopping *self = (const early_stopping *)instance;
    aglm_status st;
    if ((st = aglm_state_put_header(host, ctx, es_magic, ES_STATE_VERSION)) != AGLM_OK ||
        (st = aglm_monitor_save(host, ctx, &self->monitor)) != AGLM_OK)
        return st;
    return aglm_state_put_u64(host, ctx, (uint64_t)self->wait);
}

/** load_state: restores what save_state wrote (see the format at the top). */
static aglm_status es_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    early_stopping *self = (early_stopping *)instance;
    const aglm_monitor before = self->monitor; /* restored if the state turns out corrupt */
    aglm_state_reader r;
    uint64_t wait;
    int same;
    aglm_status st;
    r.data = (const unsigned char *)data;
    r.size = size;
    r.pos = 0;
    if ((st = aglm_state_get_header(host, ctx, &r, es_magic, ES_STATE_VERSION,
                                    "early_stopping")) != AGLM_OK ||
        (st = aglm_monitor_load(host, ctx, &self->monitor, &r, &same)) != AGLM_OK)
        return st;
    if (!aglm_state_get_u64(&r, &wait) || r.pos != r.size || (int64_t)wait < 0) {
        self->monitor = before;
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "truncated or corrupt early_stopping state (%lu bytes)",
                           (unsigned long)size);
    }
    self->wait = same ? (int64_t)wait : 0;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable es_vtable = {sizeof(aglm_callback_vtable), es_on_event};

/** init: registers the "early_stopping" callback. */
static aglm_status es_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "early_stopping",
                       "stops training when a monitored metric stops improving for `patience` evaluations",
                       "1.0.0", AGLM_SCHEMA(es_params), es_create, es_destroy, &es_vtable);
    d.save_state = es_save_state;
    d.load_state = es_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-early-stopping", "1.0.0", es_init);
