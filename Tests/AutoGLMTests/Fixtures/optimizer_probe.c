/*
 * Test fixture: an optimizer that writes what the host tells it into the parameter itself, so
 * the tests can read the ABI 1.2 additions back: at each step of a parameter p (at least 5
 * elements), p[0] = args->param_step, p[1] = args->step, p[2] = param->role,
 * p[3] = host->worker_count(), and p[4 ..] = the worker index of the parallel_for_worker chunk
 * that wrote the element (min_chunk 1). A parameter whose name equals `fail_on` fails the step.
 */
#include <autoglm/helpers.h>

#include <string.h>

static const aglm_host_api *host;

static const aglm_param_spec params[] = {
    AGLM_PARAM_STRING_SPEC("fail_on", "", "name of a parameter whose step fails"),
};

typedef struct probe {
    char *fail_on;
} probe;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    probe *self = (probe *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->fail_on = aglm_strdup(host, ctx, aglm_param_str(host, p, "fail_on"));
    *instance = self;
    return self->fail_on != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

static void destroy(void *instance) {
    probe *self = (probe *)instance;
    free(self->fail_on);
    free(self);
}

static aglm_status declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param, aglm_state_decl *decls,
                                 size_t capacity, size_t *count) {
    (void)instance; (void)ctx; (void)param; (void)decls; (void)capacity;
    *count = 0;
    return AGLM_OK;
}

static void mark(void *user, int32_t worker, int64_t begin, int64_t end) {
    float *p = (float *)user;
    int64_t i;
    for (i = begin; i < end; ++i) p[i] = (float)worker;
}

static aglm_status step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const probe *self = (const probe *)instance;
    float *p = (float *)args->value->data;
    if (strcmp(args->param->name, self->fail_on) == 0)
        return aglm_errorf(host, ctx, AGLM_ERR_NUMERIC, "refusing to update (fail_on)");
    if (!AGLM_HAS_FIELD(args, aglm_optim_step, param_step) || !AGLM_HAS_FIELD(args->param, aglm_param_info, role) ||
        args->param->numel < 5)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "needs ABI 1.2 fields and 5+ elements");
    p[0] = (float)args->param_step;
    p[1] = (float)args->step;
    p[2] = (float)args->param->role;
    p[3] = (float)host->worker_count();
    host->parallel_for_worker(args->param->numel - 4, 1, mark, p + 4);
    return AGLM_OK;
}

static const aglm_optimizer_vtable vtable = {sizeof(aglm_optimizer_vtable), declare_state, NULL, step};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_OPTIMIZER, "probe", "writes the step arguments into the weights (test fixture)",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("optimizer-probe", "1.0.0", init);
