extension ScaffoldSources {
    /// SGD with momentum, declaring one state buffer.
    static let optimizer = #"""
/*
 * @NAME@ — an AutoGLM optimizer plugin: SGD with momentum (heavy ball, as torch.optim.SGD with
 * dampening 0). For each parameter p with gradient g (already clipped) at learning rate lr:
 *
 *     v <- momentum * v + g       v starts at zero, so the first step moves by lr * g
 *     p <- p - lr * v
 *
 * v is a state buffer: the optimizer declares it (declare_state), the host allocates it
 * (float32, zero-filled, shaped like the parameter), passes it to every step, and saves it in
 * checkpoints as optim/<parameter>/velocity.
 *
 * Parameters (config: `optimizer: { name: @NAME@, lr: 0.01, momentum: 0.9 }`; lr is the host's):
 *   momentum  float, default 0.9, in [0, 1]: how much of the previous velocity is kept.
 */
#include <autoglm/helpers.h>

#include <stdlib.h>

/* The host's function table, kept from init: valid for the life of the process. */
static const aglm_host_api *host;

/* The parameter schema: the host validates the config against it and applies the defaults. */
static const aglm_param_spec schema[] = {
    AGLM_PARAM_FLOAT_SPEC("momentum", 0.9, 0.0, 1.0, "fraction of the previous velocity kept"),
};

/* One instance: the hyper-parameter (the velocity buffers are host-owned). */
typedef struct optimizer {
    double momentum;
} optimizer;

/* What one update of one parameter needs; read-only for the host's worker threads. */
typedef struct update_job {
    float *p;
    const float *g;
    float *v;
    float momentum;
    float neg_lr;
} update_job;

/* Updates elements [begin, end) of one parameter. Runs on the host's worker threads: it must
 * not call host functions that take a ctx. */
static void update_range(void *user, int64_t begin, int64_t end) {
    const update_job *job = (const update_job *)user;
    int64_t i;
    for (i = begin; i < end; ++i) {
        job->v[i] = job->momentum * job->v[i] + job->g[i];
        job->p[i] += job->neg_lr * job->v[i];
    }
}

/* create: `params` is borrowed for this call only, so copy the values out. */
static aglm_status optimizer_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                    void *layout, void **instance) {
    optimizer *self;
    (void)info;
    (void)layout;
    self = (optimizer *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->momentum = aglm_param_f64(host, params, "momentum");
    *instance = self; /* plugin-owned until destroy */
    return AGLM_OK;
}

/* destroy: frees the instance. */
static void optimizer_destroy(void *instance) { free(instance); }

/* declare_state: one buffer, "velocity", shaped like the parameter. Called once per parameter
 * before the first step. */
static aglm_status optimizer_declare_state(void *instance, aglm_ctx *ctx,
                                           const aglm_param_info *param, aglm_state_decl *decls,
                                           size_t capacity, size_t *count) {
    (void)instance;
    (void)capacity; /* at least 8 */
    *count = 1;
    return aglm_state_like(host, ctx, &decls[0], "velocity", param);
}

/* step: one update of one parameter. The views are borrowed; check them before using them. */
static aglm_status optimizer_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const optimizer *self = (const optimizer *)instance;
    const int64_t n = args->param->numel;
    update_job job;
    aglm_status st;
    if (args->state_count != 1)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "expected 1 state buffer, got %lu",
                           (unsigned long)args->state_count);
    if ((st = aglm_check_view(host, ctx, args->value, "parameter", AGLM_DTYPE_FLOAT, -1)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, args->grad, "gradient", AGLM_DTYPE_FLOAT, -1)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, args->states[0], "velocity", AGLM_DTYPE_FLOAT, -1)) != AGLM_OK)
        return st;
    if (aglm_view_numel(args->value) != n || aglm_view_numel(args->grad) != n ||
        aglm_view_numel(args->states[0]) != n)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "%s: the parameter, its gradient and its velocity differ in size",
                           args->param->name);
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.v = (float *)args->states[0]->data;
    job.momentum = (float)self->momentum;
    job.neg_lr = (float)-args->lr;
    /* Split the elements over the host's threads, at least 8192 per chunk. */
    host->parallel_for(n, 8192, update_range, &job);
    return AGLM_OK;
}

/* The vtable must outlive the process's use of the plugin: static storage. No step_begin. */
static const aglm_optimizer_vtable vtable = {
    sizeof(aglm_optimizer_vtable), optimizer_declare_state, NULL, optimizer_step,
};

/* init: registers the component (the descriptor may live on the stack: the host copies it). */
static aglm_status plugin_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "@NAME@", "SGD with momentum (one velocity buffer)",
                       "0.1.0", AGLM_SCHEMA(schema), optimizer_create, optimizer_destroy, &vtable);
    return host->register_component(ctx, &d);
}

/* The one exported symbol, aglm_plugin_entry_v1: ABI version, plugin name and version, init. */
AGLM_DEFINE_PLUGIN("@NAME@", "0.1.0", plugin_init);

"""#
}
