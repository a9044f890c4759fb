/*
 * reduce_lr_on_plateau — callback that multiplies the learning rate by `factor` when a monitored
 * evaluation metric stops improving, following torch.optim.lr_scheduler.ReduceLROnPlateau
 * (threshold_mode="abs", threshold=min_delta) step for step, on the trainer's lr_scale:
 *
 *   at each EVALUATE event, with v the value of `monitor`:
 *     if v < best - min_delta (mode "min") or v > best + min_delta (mode "max"):
 *         best = v, bad = 0
 *     else:
 *         bad = bad + 1
 *     if cooldown_left > 0:  cooldown_left = cooldown_left - 1, bad = 0
 *     if bad > patience:
 *         scale = max(scale * factor, min_scale),  cooldown_left = cooldown,  bad = 0
 *
 * best starts at +inf (min) or -inf (max); NaN never improves. `scale` is this callback's own
 * factor on the scheduled learning rate (1 at the start); when it changes, control->lr_scale is
 * multiplied by new_scale / old_scale, so the reduction composes with other callbacks' scales
 * and applies from the next step on (lr = schedule(step) * lr_scale). Once `scale` has reached
 * `min_scale` there are no further reductions (torch's min_lr, expressed relative to the
 * schedule; torch's eps, a minimum lr change of 1e-8, is not applied). Note torch's rule: the
 * lr is reduced when the number of bad evaluations EXCEEDS `patience` (patience 0 reduces at the
 * first evaluation without improvement).
 *
 * Parameters:
 *   monitor     string, default "val/loss": the metric to watch ("val/<evaluator metric>").
 *   mode        choice "min" | "max", default "min": whether lower or higher values are better.
 *   factor      float in (0, 1), default 0.1: multiplier applied at each reduction.
 *   patience    int in [0, 1000000], default 10: bad evaluations tolerated before a reduction.
 *   min_delta   float >= 0, default 0: smallest change that counts as an improvement.
 *   cooldown    int in [0, 1000000], default 0: evaluations after a reduction during which
 *               bad evaluations are not counted.
 *   min_scale   float in [0, 1], default 0: lower bound of this callback's scale.
 *
 * Checkpoint state (save_state/load_state): best value and step, bad count, cooldown left,
 * scale, reductions, monitored name and mode. Format (little-endian): magic "RLRP", u32 version
 * 1, monitor (u64 mode, f64 best, i64 step, u64 length + name), i64 bad, i64 cooldown left,
 * f64 scale, i64 reductions. The ABI does not say whether the host carries lr_scale across a
 * resume: after load_state, if the first TRAIN_BEGIN finds control->lr_scale still at 1 while
 * the restored scale is not, the callback re-applies its scale there (and logs it).
 */
#include "../common/aglm_metric_util.h"

#include <inttypes.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accepted values of `mode`. */
static const char *const mode_choices[] = {"min", "max", NULL};

/** Parameter schema. */
static const aglm_param_spec rlrp_params[] = {
    AGLM_PARAM_STRING_SPEC("monitor", "val/loss", "metric to watch, e.g. val/loss"),
    AGLM_PARAM_CHOICE_SPEC("mode", "min", mode_choices,
                           "min: lower values are better; max: higher values are better"),
    AGLM_PARAM_FLOAT_SPEC("factor", 0.1, 0.0, 1.0,
                          "multiplier of the learning rate at each reduction, in (0, 1)"),
    AGLM_PARAM_INT_SPEC("patience", 10, 0, 1000000,
                        "evaluations without improvement tolerated; the lr is reduced when exceeded"),
    AGLM_PARAM_FLOAT_SPEC("min_delta", 0.0, 0.0, INFINITY,
                          "smallest change of the metric that counts as an improvement"),
    AGLM_PARAM_INT_SPEC("cooldown", 0, 0, 1000000,
                        "evaluations after a reduction during which bad evaluations are not counted"),
    AGLM_PARAM_FLOAT_SPEC("min_scale", 0.0, 0.0, 1.0,
                          "lower bound of the factor this callback applies to the scheduled lr"),
};

/** Magic and version of the checkpointed state. */
static const char rlrp_magic[4] = {'R', 'L', 'R', 'P'};
#define RLRP_STATE_VERSION 1u

/** One instance. */
typedef struct rlrp {
    aglm_monitor monitor;
    double factor, min_scale;
    int64_t patience, cooldown;
    int64_t bad;           /* evaluations without improvement (torch: num_bad_epochs) */
    int64_t cooldown_left; /* torch: cooldown_counter */
    double scale;          /* this callback's factor on the scheduled lr */
    int64_t reductions;    /* reductions so far */
    int restore_pending;   /* load_state restored a scale not yet re-applied */
} rlrp;

/** destroy: frees the instance. */
static void rlrp_destroy(void *instance) {
    rlrp *self = (rlrp *)instance;
    aglm_monitor_free(&self->monitor);
    free(self);
}

/** create: copies and checks the parameters. */
static aglm_status rlrp_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    rlrp *self;
    aglm_status st;
    (void)info;
    (void)layout;
    self = (rlrp *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    st = aglm_monitor_init(host, ctx, &self->monitor, aglm_param_str(host, params, "monitor"),
                           aglm_param_str(host, params, "mode"),
                           aglm_param_f64(host, params, "min_delta"));
    self->factor = aglm_param_f64(host, params, "factor");
    self->min_scale = aglm_param_f64(host, params, "min_scale");
    self->patience = aglm_param_i64(host, params, "patience");
    self->cooldown = aglm_param_i64(host, params, "cooldown");
    self->scale = 1.0;
    if (st == AGLM_OK && !(self->factor > 0.0 && self->factor < 1.0))
        st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                         "factor must be in (0, 1) (exclusive), got %g", self->factor);
    if (st == AGLM_OK && !(self->min_scale >= 0.0 && self->min_scale <= 1.0))
        st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "min_scale must be in [0, 1], got %g",
                         self->min_scale);
    if (st == AGLM_OK && (self->patience < 0 || self->cooldown < 0))
        st = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                         "patience and cooldown must be >= 0");
    if (st != AGLM_OK) {
        rlrp_destroy(self);
        return st;
    }
    *instance = self;
    return AGLM_OK;
}

/** on_event: the rule at the top of this file at EVALUATE; re-applies a restored scale at the
 *  first TRAIN_BEGIN after load_state if the host did not carry it over. */
static aglm_status rlrp_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                 const aglm_trainer_state *state, aglm_control *control) {
    rlrp *self = (rlrp *)instance;
    double value, next;
    int improved;
    aglm_status st;
    if (event == AGLM_EVENT_TRAIN_BEGIN && self->restore_pending) {
        self->restore_pending = 0;
        if (control->lr_scale == 1.0 && self->scale != 1.0) {
            control->lr_scale = self->scale;
            aglm_logf(host, ctx, AGLM_LOG_INFO,
                      "resumed: learning-rate scale %g restored (%" PRId64 " reductions so far)",
                      self->scale, self->reductions);
        }
        return AGLM_OK;
    }
    if (event != AGLM_EVENT_EVALUATE) return AGLM_OK;
    st = aglm_monitor_observe(host, ctx, &self->monitor, state, &value, &improved);
    if (st != AGLM_OK) return st;
    self->bad = improved ? 0 : self->bad + 1;
    if (self->cooldown_left > 0) {
        self->cooldown_left -= 1;
        self->bad = 0;
    }
    if (self->bad > self->patience) {
        next = self->scale * self->factor;
        if (next < self->min_scale) next = self->min_scale;
        if (next < self->scale && next > 0.0) { /* > 0: lr_scale must stay positive */
            control->lr_scale = control->lr_scale / self->scale * next;
            aglm_logf(host, ctx, AGLM_LOG_INFO,
                      "%s = %g has not improved on %g for %" PRId64
                      " evaluations: learning-rate scale %g -> %g at step %" PRId64,
                      self->monitor.name, value, self->monitor.best, self->bad, self->scale, next,
                      state->step);
            self->scale = next;
            self->reductions += 1;
        }
        self->cooldown_left = self->cooldown;
        self->bad = 0;
    }
    return AGLM_OK;
}

/** save_state: header, monitor, counters, scale. */
static aglm_status rlrp_save_state(void *instance, aglm_ctx *ctx) {
    const rlrp *self = (const rlrp *)instance;
    aglm_status st;
    if ((st = aglm_state_put_header(host, ctx, rlrp_magic, RLRP_STATE_VERSION)) != AGLM_OK ||
        (st = aglm_monitor_save(host, ctx, &self->monitor)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)self->bad)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)self->cooldown_left)) != AGLM_OK ||
        (st = aglm_state_put_f64(host, ctx, self->scale)) != AGLM_OK)
        return st;
    return aglm_state_put_u64(host, ctx, (uint64_t)self->reductions);
}

/** load_state: restores what save_state wrote (see the format at the top). */
static aglm_status rlrp_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    rlrp *self = (rlrp *)instance;
    const aglm_monitor before = self->monitor;
    aglm_state_reader r;
    uint64_t bad, cooldown_left, reductions;
    double scale;
    int same;
    aglm_status st;
    r.data = (const unsigned char *)data;
    r.size = size;
    r.pos = 0;
    if ((st = aglm_state_get_header(host, ctx, &r, rlrp_magic, RLRP_STATE_VERSION,
                                    "reduce_lr_on_plateau")) != AGLM_OK ||
        (st = aglm_monitor_load(host, ctx, &self->monitor, &r, &same)) != AGLM_OK)
        return st;
    if (!aglm_state_get_u64(&r, &bad) || !aglm_state_get_u64(&r, &cooldown_left) ||
        !aglm_state_get_f64(&r, &scale) || !aglm_state_get_u64(&r, &reductions) ||
        r.pos != r.size || !(scale > 0.0 && scale <= 1.0) || (int64_t)bad < 0 ||
        (int64_t)cooldown_left < 0 || (int64_t)reductions < 0) {
        self->monitor = before;
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "truncated or corrupt reduce_lr_on_plateau state (%lu bytes)",
                           (unsigned long)size);
    }
    /* The scale applies to the learning rate whatever was monitored; the counters only to the
     * same monitor. */
    self->bad = same ? (int64_t)bad : 0;
    self->cooldown_left = same ? (int64_t)cooldown_left : 0;
    self->scale = scale;
    self->reductions = (int64_t)reductions;
    self->restore_pending = 1;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable rlrp_vtable = {sizeof(aglm_callback_vtable), rlrp_on_event};

/** init: registers the "reduce_lr_on_plateau" callback. */
static aglm_status rlrp_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "reduce_lr_on_plateau",
                       "multiplies the learning rate by `factor` when a metric plateaus (torch semantics)",
                       "1.0.0", AGLM_SCHEMA(rlrp_params), rlrp_create, rlrp_destroy, &rlrp_vtable);
    d.save_state = rlrp_save_state;
    d.load_state = rlrp_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-reduce-lr-on-plateau", "1.0.0", rlrp_init);
