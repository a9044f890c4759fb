/*
 * terminate_on_nan — callback that stops training as soon as it diverges numerically (like
 * Keras' TerminateOnNaN, extended to the gradient norm and the validation loss):
 *
 *   at STEP_END:  if loss is NaN or +-inf                          -> control->stop = 1
 *                 if check_grad_norm and grad_norm is NaN or +-inf -> control->stop = 1
 *   at EVALUATE:  if check_val_loss and "val/loss" is NaN or +-inf -> control->stop = 1
 *
 * and logs why at error level (which quantity, its value, the step). A stop ends training after
 * the current step: the trainer still runs the final evaluation and writes the weights (useful
 * for a post-mortem), then calls TRAIN_END. The step whose loss first became non-finite is the
 * last step run. Other evaluation metrics are not checked: some are NaN by definition in normal
 * runs (e.g. class_recall of a class without examples).
 *
 * Parameters:
 *   check_grad_norm   bool, default true: also stop when the global gradient norm (before
 *                     clipping) is not finite, which usually precedes a non-finite loss.
 *   check_val_loss    bool, default true: also stop when an evaluation's val/loss is not finite.
 *
 * No checkpoint state.
 */
#include "../common/aglm_metric_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec ton_params[] = {
    AGLM_PARAM_BOOL_SPEC("check_grad_norm", 1,
                         "also stop when the gradient norm (before clipping) is NaN or infinite"),
    AGLM_PARAM_BOOL_SPEC("check_val_loss", 1,
                         "also stop when an evaluation's val/loss is NaN or infinite"),
};

/** One instance. */
typedef struct terminate_on_nan {
    int check_grad_norm, check_val_loss;
} terminate_on_nan;

/** create: copies the parameters. */
static aglm_status ton_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    terminate_on_nan *self;
    (void)info;
    (void)layout;
    self = (terminate_on_nan *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->check_grad_norm = aglm_param_bool(host, params, "check_grad_norm");
    self->check_val_loss = aglm_param_bool(host, params, "check_val_loss");
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void ton_destroy(void *instance) { free(instance); }

/** Requests the stop and logs the reason. */
static void stop(aglm_ctx *ctx, aglm_control *control, const char *what, double value,
                 int64_t step) {
    aglm_logf(host, ctx, AGLM_LOG_ERROR, "%s is %g at step %" PRId64 ": terminating training", what,
              value, step);
    control->stop = 1;
}

/** on_event: the checks at the top of this file. */
static aglm_status ton_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                const aglm_trainer_state *state, aglm_control *control) {
    const terminate_on_nan *self = (const terminate_on_nan *)instance;
    if (event == AGLM_EVENT_STEP_END) {
        if (!isfinite(state->loss))
            stop(ctx, control, "the training loss", state->loss, state->step);
        else if (self->check_grad_norm && !isfinite(state->grad_norm))
            stop(ctx, control, "the gradient norm", state->grad_norm, state->step);
    } else if (event == AGLM_EVENT_EVALUATE && self->check_val_loss) {
        const aglm_metric *m = aglm_metric_find(state, "val/loss");
        if (m != NULL && !isfinite(m->value)) stop(ctx, control, "val/loss", m->value, state->step);
    }
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable ton_vtable = {sizeof(aglm_callback_vtable), ton_on_event};

/** init: registers the "terminate_on_nan" callback. */
static aglm_status ton_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "terminate_on_nan",
                       "stops training when the loss or gradient norm becomes NaN or infinite",
                       "1.0.0", AGLM_SCHEMA(ton_params), ton_create, ton_destroy, &ton_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-terminate-on-nan", "1.0.0", ton_init);
