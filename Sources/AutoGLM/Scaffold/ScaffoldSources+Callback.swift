extension ScaffoldSources {
    /// A logger of steps and evaluations.
    static let callback = #"""
/*
 * @NAME@ — an AutoGLM callback plugin: a logger. Every `every` optimizer steps it logs the
 * step, loss, learning rate and throughput, after each evaluation its metrics, and a summary at
 * the end, through host->log (the host prints the lines above its progress bar, or as JSON
 * records with --log-format json). It never changes the training (`control` stays as it is);
 * set control->stop, ->save, ->evaluate, ->lr_scale or ->accumulation_steps to steer it.
 *
 * Parameters (config: `callbacks: [@NAME@]`, `params: { @NAME@: { every: 10 } }`):
 *   every  int, default 10, >= 1: log every `every` steps.
 */
#include <autoglm/helpers.h>

#include <stdlib.h>

/* The host's function table, kept from init: valid for the life of the process. */
static const aglm_host_api *host;

/* The parameter schema: the host validates the config against it and applies the defaults. */
static const aglm_param_spec schema[] = {
    AGLM_PARAM_INT_SPEC("every", 10, 1, INFINITY, "log every N optimizer steps"),
};

/* One instance: the parameter. */
typedef struct callback {
    int64_t every;
} callback;

/* create: `params` is borrowed for this call only, so copy the values out. */
static aglm_status callback_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                   void *layout, void **instance) {
    callback *self;
    (void)info;
    (void)layout;
    self = (callback *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->every = aglm_param_i64(host, params, "every");
    *instance = self; /* plugin-owned until destroy */
    return AGLM_OK;
}

/* destroy: frees the instance. */
static void callback_destroy(void *instance) { free(instance); }

/* on_event: `state` is borrowed for the call. Events of later ABI versions are ignored. */
static aglm_status callback_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                     const aglm_trainer_state *state, aglm_control *control) {
    const callback *self = (const callback *)instance;
    size_t i;
    (void)control;
    switch (event) {
    case AGLM_EVENT_STEP_END:
        if (state->step % self->every == 0)
            aglm_logf(host, ctx, AGLM_LOG_INFO, "step %lld/%lld: loss %.4f, lr %.3g, %.0f tokens/s",
                      (long long)state->step, (long long)state->max_steps, state->loss, state->lr,
                      state->elapsed_seconds > 0 ? (double)state->tokens_seen / state->elapsed_seconds : 0.0);
        break;
    case AGLM_EVENT_EVALUATE:
        for (i = 0; i < state->metric_count; ++i)
            aglm_logf(host, ctx, AGLM_LOG_INFO, "step %lld: %s = %.4f", (long long)state->step,
                      state->metrics[i].name, state->metrics[i].value);
        break;
    case AGLM_EVENT_TRAIN_END:
        aglm_logf(host, ctx, AGLM_LOG_INFO, "finished at step %lld after %.1f s, loss %.4f",
                  (long long)state->step, state->elapsed_seconds, state->loss);
        break;
    default:
        break;
    }
    return AGLM_OK;
}

/* The vtable must outlive the process's use of the plugin: static storage. */
static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), callback_on_event};

/* init: registers the component (the descriptor may live on the stack: the host copies it). */
static aglm_status plugin_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "@NAME@", "logs steps, evaluations and the end of training",
                       "0.1.0", AGLM_SCHEMA(schema), callback_create, callback_destroy, &vtable);
    return host->register_component(ctx, &d);
}

/* The one exported symbol, aglm_plugin_entry_v1: ABI version, plugin name and version, init. */
AGLM_DEFINE_PLUGIN("@NAME@", "0.1.0", plugin_init);

"""#
}
