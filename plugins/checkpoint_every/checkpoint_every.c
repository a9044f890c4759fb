/*
 * checkpoint_every — callback that asks the host for a checkpoint every `every` optimizer steps:
 *
 *   STEP_END:  if step % every == 0  ->  control->save = 1
 *
 * The host writes the checkpoint (the whole training state, as checkpoints/step-N of the run
 * directory) and then sends SAVE. Which checkpoints are kept, and which is the best, is the host's
 * business (`checkpoint.keep_last`, `checkpoint.best_metric`, `checkpoint.best_mode`); the host
 * also checkpoints at every evaluation (or every `checkpoint.every` steps) and at every stop, so
 * this callback is for runs that want more frequent checkpoints than their evaluations.
 *
 * Parameters:
 *   every     int in [1, 1000000000], default 100: ask for a checkpoint every N steps.
 *
 * No state: the decision depends only on the step.
 */
#include <autoglm/helpers.h>

#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec ckpt_params[] = {
    AGLM_PARAM_INT_SPEC("every", 100, 1, 1000000000, "ask for a checkpoint every N optimizer steps"),
};

/** One instance: its period. */
typedef struct checkpoint_every {
    int64_t every;
} checkpoint_every;

/** create: copies `every` out of the borrowed parameters. */
static aglm_status ckpt_create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                               void **instance) {
    checkpoint_every *self = (checkpoint_every *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->every = (int64_t)host->param_number(params, "every");
    *instance = self;
    return AGLM_OK;
}

static void ckpt_destroy(void *instance) { free(instance); }

/** on_event: the rule at the top of this file. */
static aglm_status ckpt_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                 const aglm_trainer_state *state, aglm_control *control) {
    const checkpoint_every *self = (const checkpoint_every *)instance;
    (void)ctx;
    if (event == AGLM_EVENT_STEP_END && state->step > 0 && state->step % self->every == 0) control->save = 1;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable ckpt_vtable = {sizeof(aglm_callback_vtable), ckpt_on_event};

/** init: registers the "checkpoint_every" callback. */
static aglm_status ckpt_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "checkpoint_every", "asks the host for a checkpoint every N steps",
                       "2.0.0", AGLM_SCHEMA(ckpt_params), ckpt_create, ckpt_destroy, &ckpt_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-checkpoint-every", "2.0.0", ckpt_init);
