/*
 * ema — exponential moving average of the model's weights (Polyak & Juditsky 1992; as
 * torch.optim.swa_utils.AveragedModel with get_ema_multi_avg_fn(decay), and timm's ModelEma):
 *
 *     after optimizer step t, when t > start_step and (t - start_step) % every == 0:
 *         first update:  ema = w                       (the weights are copied)
 *         then:          ema = ema + (1 - decay) (w - ema)
 *
 * for every trainable parameter w (float32, through the host's views of the weights: ABI 1.2
 * model_param). With decay 0.999 the average spans about the last 1000 updates.
 *
 * Used for evaluation, as in PyTorch, where one evaluates the AveragedModel while the optimizer
 * keeps training the raw model: with `evaluate` (the default) the averaged weights are swapped
 * into the model at AGLM_EVENT_EVALUATE_BEGIN and the trained ones back at AGLM_EVENT_EVALUATE,
 * so every evaluation during training (val/loss and the evaluators' metrics, and with them the
 * `best` checkpoint) measures the average, and training goes on from the trained weights
 * exactly as without the callback. Before the first update nothing is swapped.
 *
 * Saved with the checkpoint: the average and the update count are this component's state
 * (save_state / load_state; format in plugins/common/aglm_average_util.h), so a resumed run
 * continues the same average. model.safetensors holds the trained weights; `autoglm sample`
 * samples those.
 *
 * Parameters:
 *   decay       float in (0, 1), default 0.999: weight of the old average.
 *   every       int >= 1, default 1: optimizer steps between updates.
 *   start_step  int >= 0, default 0: first update after this step.
 *   evaluate    bool, default true: evaluate with the averaged weights.
 */
#include "../common/aglm_average_util.h"

#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec ema_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("decay", 0.999, 0.0, 1.0, AGLM_OPEN,
                                "weight of the old average: ema = ema + (1 - decay)(w - ema)"),
    AGLM_PARAM_INT_SPEC("every", 1, 1, INFINITY, "optimizer steps between updates"),
    AGLM_PARAM_INT_SPEC("start_step", 0, 0, INFINITY, "first update after this optimizer step"),
    AGLM_PARAM_BOOL_SPEC("evaluate", 1, "evaluate with the averaged weights (swapped in and back)"),
};

/** Magic of the saved state. */
static const char ema_magic[4] = {'E', 'M', 'A', 'W'};

/** One instance. */
typedef struct ema {
    double decay;
    int64_t every, start_step;
    int evaluate;
    aglm_average average;
} ema;

/** destroy: frees the average and the instance. */
static void ema_destroy(void *instance) {
    ema *self = (ema *)instance;
    aglm_average_free(&self->average);
    free(self);
}

/** create: copies the parameters (their bounds are the schema's). */
static aglm_status ema_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    ema *self = (ema *)aglm_calloc(host, ctx, sizeof(ema));
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->decay = aglm_param_f64(host, params, "decay");
    self->every = aglm_param_i64(host, params, "every");
    self->start_step = aglm_param_i64(host, params, "start_step");
    self->evaluate = aglm_param_bool(host, params, "evaluate");
    *instance = self;
    return AGLM_OK;
}

/** on_event: updates the average after the chosen steps; swaps it in for evaluations. */
static aglm_status ema_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                const aglm_trainer_state *state, aglm_control *control) {
    ema *self = (ema *)instance;
    aglm_status st = aglm_average_on_event(host, ctx, &self->average, event, self->evaluate, "ema");
    (void)control;
    if (st != AGLM_OK || event != AGLM_EVENT_STEP_END) return st;
    if (state->step <= self->start_step || (state->step - self->start_step) % self->every != 0) return AGLM_OK;
    return aglm_average_update(host, ctx, &self->average, 1.0 - self->decay);
}

/** save_state: the average (see aglm_average_util.h). */
static aglm_status ema_save_state(void *instance, aglm_ctx *ctx) {
    return aglm_average_save(host, ctx, &((ema *)instance)->average, ema_magic);
}

/** load_state: restores what save_state wrote. */
static aglm_status ema_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    return aglm_average_load(host, ctx, &((ema *)instance)->average, data, size, ema_magic, "ema");
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable ema_vtable = {sizeof(aglm_callback_vtable), ema_on_event};

/** init: registers the "ema" callback. */
static aglm_status ema_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "ema",
                       "exponential moving average of the weights, evaluated in their place and checkpointed",
                       "1.0.0", AGLM_SCHEMA(ema_params), ema_create, ema_destroy, &ema_vtable);
    d.save_state = ema_save_state;
    d.load_state = ema_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-ema", "1.0.0", ema_init);
