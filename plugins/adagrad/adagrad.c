/*
 * adagrad — Adagrad with learning-rate decay and coupled L2 weight decay, computed as PyTorch's
 * torch.optim.Adagrad does (single-tensor path, maximize off). Reference: Duchi, Hazan & Singer
 * 2011, "Adaptive Subgradient Methods for Online Learning and Stochastic Optimization" (the
 * diagonal variant, eq. 1 with the elementwise diag(G_t)).
 *
 * One step of one parameter p with gradient g, learning rate lr (the host's), step t (1-based):
 *
 *     g   <- g + weight_decay * p                    only for parameters with decay = 1
 *     clr =  lr / (1 + (t - 1) * lr_decay)
 *     s   <- initial_accumulator_value + g * g        at t = 1 (torch starts s at that value)
 *     s   <- s + g * g                                for t > 1
 *     p   <- p - clr * g / (sqrt(s) + eps)
 *
 * The host zero-fills state buffers, so the initial value is added at the first step; "t" is the
 * host's optimizer step counter (restored on resume), which equals torch's per-parameter step
 * whenever every parameter gets a gradient from the first step on (the AutoGLM model always does).
 *
 * Parameters:
 *   lr_decay                   float, default 0, >= 0; the effective lr is lr / (1 + (t-1) lr_decay)
 *   weight_decay               float, default 0, >= 0; coupled L2 (decay = 1 parameters only)
 *   initial_accumulator_value  float, default 0, >= 0; starting value of the squared-gradient sum
 *   eps                        float, default 1e-10, > 0; added to the denominator
 *
 * State (host-owned, checkpointed as optim/<param>/<name>), shaped like the parameter: "sum".
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec adagrad_params[] = {
    AGLM_PARAM_FLOAT_SPEC("lr_decay", 0.0, 0.0, INFINITY,
                          "learning-rate decay: the step size is lr / (1 + (step - 1) * lr_decay)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "coupled L2 penalty added to the gradient (parameters with 2+ dims only)"),
    AGLM_PARAM_FLOAT_SPEC("initial_accumulator_value", 0.0, 0.0, INFINITY,
                          "starting value of the per-element sum of squared gradients"),
    AGLM_OPTIM_EPS_SPEC("eps", 1e-10,
                        "added to the denominator for numerical stability (> 0)"),
};

/** One instance: its hyper-parameters (the sums are host-owned). */
typedef struct adagrad {
    double lr_decay, weight_decay, initial_accumulator_value, eps;
} adagrad;

/** Everything one elementwise update needs; read-only for the parallel_for workers. */
typedef struct adagrad_job {
    float *p;
    const float *g;
    float *sum;
    float wd, eps, neg_clr;
    float initial;   /* initial_accumulator_value */
    int first;       /* step 1: the sum starts from `initial` */
} adagrad_job;

/** Updates elements [begin, end); the branch is loop-invariant, so the loop vectorises. */
static void adagrad_kernel(void *user, int64_t begin, int64_t end) {
    const adagrad_job *job = (const adagrad_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT s = job->sum + begin;
    const float wd = job->wd, eps = job->eps, neg_clr = job->neg_clr, initial = job->initial;
    const int first = job->first;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];                  /* grad.add(p, alpha=wd)      */
        const float si = (first ? initial : s[i]) + gi * gi; /* sum.addcmul_(g, g, value=1) */
        s[i] = si;
        p[i] = p[i] + neg_clr * (gi / (AGLM_SQRTF(si) + eps)); /* p.addcdiv_(g, std, -clr) */
    }
}

/** create: reads and checks the hyper-parameters. */
static aglm_status adagrad_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                  void *layout, void **instance) {
    adagrad *self;
    const double lr_decay = aglm_param_f64(host, params, "lr_decay");
    const double weight_decay = aglm_param_f64(host, params, "weight_decay");
    const double initial = aglm_param_f64(host, params, "initial_accumulator_value");
    const double eps = aglm_param_f64(host, params, "eps");
    (void)info;
    (void)layout;
    self = (adagrad *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->lr_decay = lr_decay;
    self->weight_decay = weight_decay;
    self->initial_accumulator_value = initial;
    self->eps = eps;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void adagrad_destroy(void *instance) { free(instance); }

/** declare_state: the running sum of squared gradients, shaped like the parameter. */
static aglm_status adagrad_declare_state(void *instance, aglm_ctx *ctx,
                                         const aglm_param_info *param, aglm_state_decl *decls,
                                         size_t capacity, size_t *count) {
    static const char *const names[1] = {"sum"};
    (void)instance;
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names, 1, count);
}

/** step: one Adagrad update of one parameter, split over the host's worker threads. */
static aglm_status adagrad_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const adagrad *self = (const adagrad *)instance;
    adagrad_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, 1, NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.sum = (float *)args->states[0]->data;
    job.wd = (float)aglm_optim_weight_decay(args, self->weight_decay);
    job.eps = (float)self->eps;
    job.neg_clr = (float)(-(args->lr / (1.0 + (double)(args->step - 1) * self->lr_decay)));
    job.initial = (float)self->initial_accumulator_value;
    job.first = args->step == 1;
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, adagrad_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable adagrad_vtable = {
    sizeof(aglm_optimizer_vtable), adagrad_declare_state, NULL, adagrad_step,
};

/** init: registers the "adagrad" optimizer. */
static aglm_status adagrad_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "adagrad",
                       "Adagrad with lr decay and L2 weight decay (torch.optim.Adagrad)", "1.0.0",
                       AGLM_SCHEMA(adagrad_params), adagrad_create, adagrad_destroy,
                       &adagrad_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-adagrad", "1.0.0", adagrad_init);
