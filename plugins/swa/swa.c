/*
 * swa — stochastic weight averaging (Izmailov et al. 2018, "Averaging Weights Leads to Wider
 * Optima and Better Generalization", arXiv:1803.05407; as torch.optim.swa_utils.AveragedModel
 * with its default, equal-weight average, get_swa_multi_avg_fn):
 *
 *     start = floor(start_fraction * max_steps)
 *     after optimizer step t, when t > start and (t - start) % every == 0, with n the updates
 *     so far:
 *         first update:  swa = w
 *         then:          swa = swa + (w - swa) / (n + 1)       the mean of the sampled weights
 *
 * for every trainable parameter w (float32, through the host's views of the weights: ABI 1.2
 * model_param). The paper averages once per epoch from 75 % of the training budget on, usually
 * with a constant or cyclic learning rate over that stretch; here `every` counts optimizer steps.
 *
 * Used for evaluation and saved with the checkpoint exactly as `ema` is (see plugins/ema/ema.c
 * and plugins/common/aglm_average_util.h): with `evaluate`, evaluations during training measure
 * the average (swapped in at AGLM_EVENT_EVALUATE_BEGIN, out at AGLM_EVENT_EVALUATE), and
 * training continues from the trained weights. The model has no batch normalisation, so
 * PyTorch's update_bn step has nothing to do.
 *
 * Parameters:
 *   start_fraction  float in [0, 1), default 0.75: averaging starts after this share of
 *                   train.steps.
 *   every           int >= 1, default 1: optimizer steps between updates.
 *   evaluate        bool, default true: evaluate with the averaged weights.
 */
#include "../common/aglm_average_util.h"

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec swa_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("start_fraction", 0.75, 0.0, 1.0, AGLM_OPEN_MAX,
                                "averaging starts after this share of train.steps"),
    AGLM_PARAM_INT_SPEC("every", 1, 1, INFINITY, "optimizer steps between updates"),
    AGLM_PARAM_BOOL_SPEC("evaluate", 1, "evaluate with the averaged weights (swapped in and back)"),
};

/** Magic of the saved state. */
static const char swa_magic[4] = {'S', 'W', 'A', 'W'};

/** One instance. */
typedef struct swa {
    double start_fraction;
    int64_t every;
    int evaluate;
    aglm_average average;
} swa;

/** destroy: frees the average and the instance. */
static void swa_destroy(void *instance) {
    swa *self = (swa *)instance;
    aglm_average_free(&self->average);
    free(self);
}

/** create: copies the parameters (their bounds are the schema's). */
static aglm_status swa_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    swa *self = (swa *)aglm_calloc(host, ctx, sizeof(swa));
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->start_fraction = aglm_param_f64(host, params, "start_fraction");
    self->every = aglm_param_i64(host, params, "every");
    self->evaluate = aglm_param_bool(host, params, "evaluate");
    *instance = self;
    return AGLM_OK;
}

/** on_event: adds the weights to the mean after the chosen steps; swaps it in for evaluations. */
static aglm_status swa_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                const aglm_trainer_state *state, aglm_control *control) {
    swa *self = (swa *)instance;
    const int64_t start = (int64_t)floor(self->start_fraction * (double)state->max_steps);
    aglm_status st = aglm_average_on_event(host, ctx, &self->average, event, self->evaluate, "swa");
    (void)control;
    if (st != AGLM_OK || event != AGLM_EVENT_STEP_END) return st;
    if (state->step <= start || (state->step - start) % self->every != 0) return AGLM_OK;
    return aglm_average_update(host, ctx, &self->average, 1.0 / (double)(self->average.updates + 1));
}

/** save_state: the average (see aglm_average_util.h). */
static aglm_status swa_save_state(void *instance, aglm_ctx *ctx) {
    return aglm_average_save(host, ctx, &((swa *)instance)->average, swa_magic);
}

/** load_state: restores what save_state wrote. */
static aglm_status swa_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    return aglm_average_load(host, ctx, &((swa *)instance)->average, data, size, swa_magic, "swa");
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable swa_vtable = {sizeof(aglm_callback_vtable), swa_on_event};

/** init: registers the "swa" callback. */
static aglm_status swa_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "swa",
                       "stochastic weight averaging: equal-weight mean of late weights, evaluated in their place",
                       "1.0.0", AGLM_SCHEMA(swa_params), swa_create, swa_destroy, &swa_vtable);
    d.save_state = swa_save_state;
    d.load_state = swa_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-swa", "1.0.0", swa_init);
