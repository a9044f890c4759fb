/*
 * Test fixture: a callback that uses the model-parameter access of ABI 1.2. At every
 * AGLM_EVENT_STEP_END it finds `target` by name and multiplies its values by `factor` in place
 * (a view, not a copy: the model must see it), and checks the API's answers on the way: the
 * parameter count, the info of the target (name, numel, index, role), and the errors for an
 * unknown name and an index out of range. Any surprise fails on_event with a message. With
 * `fail_at_step` = N it fails at the STEP_END of step N (to read the host's error prefix).
 */
#include <autoglm/helpers.h>

#include <string.h>

static const aglm_host_api *host;

static const aglm_param_spec params[] = {
    AGLM_PARAM_STRING_SPEC("target", "final_norm.weight", "parameter to scale"),
    AGLM_PARAM_FLOAT_SPEC("factor", 2.0, -INFINITY, INFINITY, "scale applied at every step end"),
    AGLM_PARAM_INT_SPEC("fail_at_step", 0, 0, INFINITY, "fail at the step end of this step (0: never)"),
};

typedef struct access {
    char *target;
    double factor;
    int64_t fail_at_step;
} access;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    access *self = (access *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->target = aglm_strdup(host, ctx, aglm_param_str(host, p, "target"));
    self->factor = aglm_param_f64(host, p, "factor");
    self->fail_at_step = aglm_param_i64(host, p, "fail_at_step");
    *instance = self;
    return self->target != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

static void destroy(void *instance) {
    access *self = (access *)instance;
    free(self->target);
    free(self);
}

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event, const aglm_trainer_state *state,
                            aglm_control *control) {
    const access *self = (const access *)instance;
    const int64_t count = host->model_param_count(ctx);
    aglm_param_info info;
    aglm_view view;
    int64_t index, i;
    float *x;
    (void)control;
    if (event != AGLM_EVENT_STEP_END) return AGLM_OK;
    if (state->step == self->fail_at_step) return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "failing on purpose");
    if (count < 1) return aglm_errorf(host, ctx, AGLM_ERR_STATE, "model_param_count gave %lld", (long long)count);
    index = host->model_param_find(ctx, self->target);
    if (index < 0) return AGLM_ERR_INVALID_ARGUMENT; /* the host's message names the target */
    memset(&view, 0, sizeof view);
    view.struct_size = sizeof view;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (host->model_param(ctx, index, &info, &view) != AGLM_OK) return AGLM_ERR_INTERNAL;
    if (strcmp(info.name, self->target) != 0 || info.index != index || info.numel != aglm_view_numel(&view) ||
        !aglm_view_is_f32(&view) || !aglm_view_is_contiguous(&view))
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "inconsistent info for %s", self->target);
    x = (float *)view.data;
    for (i = 0; i < info.numel; ++i) x[i] = (float)(x[i] * self->factor);
    aglm_logf(host, ctx, AGLM_LOG_DEBUG, "scaled %s (role %u) by %g", info.name, (unsigned)info.role, self->factor);
    /* last, since they set errors: an unknown name and an index out of range are refused */
    if (host->model_param_find(ctx, "no.such.parameter") != -1)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "an unknown name was found");
    if (host->model_param(ctx, count, NULL, &view) != AGLM_ERR_INVALID_ARGUMENT)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "an index out of range was accepted");
    return AGLM_OK;
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_CALLBACK, "param_access", "scales a named parameter at every step end (test fixture)",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("param-access", "1.0.0", init);
