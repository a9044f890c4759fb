/* A test callback for data-parallel runs (MPITrainingTests): after step `step`, on rank `rank`
 * alone (ABI 1.3's aglm_trainer_state.rank), it adds `delta` to the first element of the model
 * parameter `param` through host->model_param (ABI 1.2), so that rank's weights drift apart
 * from the others' and the checksum at the next checkpoint must stop the run. */
#include <autoglm/helpers.h>

#include <stdlib.h>

static const aglm_host_api *host;

static const aglm_param_spec drift_params[] = {
    AGLM_PARAM_INT_SPEC("rank", 1, 0, 1024, "the rank whose weights drift"),
    AGLM_PARAM_INT_SPEC("step", 7, 1, 1000000, "the step after which they drift"),
    AGLM_PARAM_FLOAT_SPEC("delta", 0.001, -1.0, 1.0, "what is added to the parameter's first element"),
    AGLM_PARAM_STRING_SPEC("param", "final_norm.weight", "the model parameter that drifts"),
};

typedef struct drift {
    int64_t rank, step;
    double delta;
    char param[128];
} drift;

static aglm_status drift_create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                                void **instance) {
    drift *self = (drift *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->rank = (int64_t)host->param_number(params, "rank");
    self->step = (int64_t)host->param_number(params, "step");
    self->delta = host->param_number(params, "delta");
    snprintf(self->param, sizeof self->param, "%s", host->param_string(params, "param"));
    *instance = self;
    return AGLM_OK;
}

static void drift_destroy(void *instance) { free(instance); }

static aglm_status drift_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                  const aglm_trainer_state *state, aglm_control *control) {
    const drift *self = (const drift *)instance;
    aglm_view value = {.struct_size = sizeof(aglm_view)};
    int64_t index;
    aglm_status status;
    (void)control;
    if (!AGLM_HAS_FIELD(state, aglm_trainer_state, rank))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "the host's trainer state has no rank");
    if (event != AGLM_EVENT_STEP_END || state->rank != self->rank || state->step != self->step) return AGLM_OK;
    if ((index = host->model_param_find(ctx, self->param)) < 0) return AGLM_ERR_INVALID_ARGUMENT;
    if ((status = host->model_param(ctx, index, NULL, &value)) != AGLM_OK) return status;
    ((float *)value.data)[0] += (float)self->delta;
    return AGLM_OK;
}

static const aglm_callback_vtable drift_vtable = {sizeof(aglm_callback_vtable), drift_on_event};

static aglm_status drift_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "rank_drift", "perturbs one parameter on one rank after one step",
                       "1.0.0", AGLM_SCHEMA(drift_params), drift_create, drift_destroy, &drift_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("rank-drift", "1.0.0", drift_init);
