/*
 * dynamic_accumulation — callback that adapts the number of gradient-accumulation micro-batches
 * to the process's memory use, without changing what is optimised:
 *
 *   at STEP_END, with r = state->resident_bytes and a = state->accumulation_steps (the
 *   micro-batch count the step just used):
 *     if r > high_water_mb MiB and a < max_steps:   control->accumulation_steps = min(2a, max_steps)
 *     if r < low_water_mb MiB  and a > 1:           control->accumulation_steps = floor(a / 2)
 *   which applies from the next optimizer step on (logged when it changes). The count in force
 *   is used rather than the pre-filled request because the host caps requests at batch_size:
 *   halving a request the host had capped would otherwise take effect only steps later.
 *
 * Why this is safe: the host keeps the EFFECTIVE batch constant. Each optimizer step still
 * consumes train.batch_size sequences; they are split into `accumulation_steps` micro-batches of
 * batch_size / a sequences (the first batch_size % a get one more), each micro-batch's mean loss
 * is weighted by its share of the batch (rows / batch_size) before its backward pass, and the
 * gradients add up. The accumulated gradient is therefore the full batch's mean-loss gradient
 * (up to float rounding), the learning rate and the schedule are unchanged, and only the peak
 * activation memory shrinks (roughly by a) at the price of more, smaller matrix products. The
 * host caps the micro-batch count at batch_size (one sequence per micro-batch); the count in
 * force is reported as aglm_trainer_state.accumulation_steps and in log.jsonl.
 *
 * Resident memory is the process's RSS read by the host (/proc/self/statm on Linux); where the
 * host cannot measure it (resident_bytes <= 0) the callback does nothing and warns once. The
 * band between the two water marks is a hysteresis zone where nothing changes; it must not be
 * empty (low_water_mb < high_water_mb). The defaults suit a machine with some 16 GiB of RAM;
 * set them relative to the memory you can spare.
 *
 * Parameters:
 *   high_water_mb   float > 0, default 12288: above this RSS (MiB) the micro-batch count doubles.
 *   low_water_mb    float >= 0, default 4096: below this RSS (MiB) it halves; < high_water_mb.
 *   max_steps       int in [1, 1048576], default 64: largest micro-batch count requested.
 *
 * No checkpoint state (the count adapts again from the memory use after a resume).
 */
#include "../common/aglm_metric_util.h"

#include <inttypes.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Largest accumulation count the host accepts (aglm_control.accumulation_steps). */
#define DYN_MAX_STEPS 1048576

/** Parameter schema. */
static const aglm_param_spec dyn_params[] = {
    AGLM_PARAM_FLOAT_SPEC("high_water_mb", 12288.0, 0.0, INFINITY,
                          "resident memory (MiB) above which the micro-batch count doubles"),
    AGLM_PARAM_FLOAT_SPEC("low_water_mb", 4096.0, 0.0, INFINITY,
                          "resident memory (MiB) below which the micro-batch count halves "
                          "(< high_water_mb)"),
    AGLM_PARAM_INT_SPEC("max_steps", 64, 1, DYN_MAX_STEPS,
                        "largest number of micro-batches per optimizer step"),
};

/** One instance. */
typedef struct dynamic_accumulation {
    double high_bytes, low_bytes; /* water marks in bytes */
    int64_t max_steps;
    int warned;                   /* the "no RSS" warning was given */
} dynamic_accumulation;

/** create: copies and checks the parameters. */
static aglm_status dyn_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    dynamic_accumulation *self;
    double high, low;
    (void)info;
    (void)layout;
    high = aglm_param_f64(host, params, "high_water_mb");
    low = aglm_param_f64(host, params, "low_water_mb");
    if (!(high > 0.0) || !(low >= 0.0) || !(low < high) || !isfinite(high))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "need 0 <= low_water_mb < high_water_mb (finite), got low %g and high %g",
                           low, high);
    self = (dynamic_accumulation *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->high_bytes = high * 1048576.0;
    self->low_bytes = low * 1048576.0;
    self->max_steps = aglm_param_i64(host, params, "max_steps");
    if (self->max_steps < 1) self->max_steps = 1;
    if (self->max_steps > DYN_MAX_STEPS) self->max_steps = DYN_MAX_STEPS;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void dyn_destroy(void *instance) { free(instance); }

/** on_event: the rule at the top of this file, at STEP_END. */
static aglm_status dyn_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                const aglm_trainer_state *state, aglm_control *control) {
    dynamic_accumulation *self = (dynamic_accumulation *)instance;
    const double rss = (double)state->resident_bytes;
    int64_t a, next;
    if (event != AGLM_EVENT_STEP_END) return AGLM_OK;
    if (state->resident_bytes <= 0) {
        if (!self->warned)
            aglm_logf(host, ctx, AGLM_LOG_WARN,
                      "the host reports no resident memory: accumulation stays as configured");
        self->warned = 1;
        return AGLM_OK;
    }
    a = state->accumulation_steps >= 1 ? state->accumulation_steps : control->accumulation_steps;
    if (a < 1) a = 1;
    next = a;
    if (rss > self->high_bytes && a < self->max_steps)
        next = a > self->max_steps / 2 ? self->max_steps : 2 * a;
    else if (rss < self->low_bytes && a > 1)
        next = a / 2;
    if (next != a && next != control->accumulation_steps) { /* a new request: log it */
        aglm_logf(host, ctx, AGLM_LOG_INFO,
                  "resident memory %.1f MiB is %s the %s water mark %.1f MiB at step %" PRId64
                  ": %" PRId64 " -> %" PRId64 " micro-batches per step",
                  rss / 1048576.0, next > a ? "above" : "below", next > a ? "high" : "low",
                  (next > a ? self->high_bytes : self->low_bytes) / 1048576.0, state->step, a,
                  next);
    }
    if (next != a) control->accumulation_steps = next;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable dyn_vtable = {sizeof(aglm_callback_vtable), dyn_on_event};

/** init: registers the "dynamic_accumulation" callback. */
static aglm_status dyn_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "dynamic_accumulation",
                       "doubles/halves gradient-accumulation micro-batches by resident memory",
                       "1.0.0", AGLM_SCHEMA(dyn_params), dyn_create, dyn_destroy, &dyn_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-dynamic-accumulation", "1.0.0", dyn_init);
