/*
 * lion — the Lion optimizer (EvoLved Sign Momentum). Reference: Chen et al. 2023, "Symbolic
 * Discovery of Optimization Algorithms", Algorithm 2 (Lion with decoupled weight decay):
 *
 *     c   =  beta1 * m + (1 - beta1) * g
 *     p   <- p - lr * (sign(c) + weight_decay * p)    weight decay only for decay = 1 params
 *     m   <- beta2 * m + (1 - beta2) * g
 *
 * computed in the reference implementation's order: p <- p * (1 - lr * weight_decay), then
 * p <- p - lr * sign(c) (algebraically identical); sign(0) = 0. lr is the host's (the paper
 * recommends a 3-10x smaller lr and a 3-10x larger weight decay than for AdamW).
 *
 * Parameters:
 *   betas         float_list[2], default [0.9, 0.99], each in [0, 1): beta1 interpolates the
 *                 update direction, beta2 is the momentum's decay
 *   weight_decay  float, default 0, >= 0; decoupled (parameters whose `decay` flag is 1 only)
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), shaped like the
 * parameter: "exp_avg" (the momentum m).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Default of `betas` (the paper's defaults). */
static const double lion_default_betas[2] = {0.9, 0.99};

/** Parameter schema. */
static const aglm_param_spec lion_params[] = {
    AGLM_OPTIM_BETAS_SPEC("betas", lion_default_betas,
                          "beta1 (update interpolation) and beta2 (momentum decay), each in [0, 1)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "decoupled weight decay coefficient (parameters with 2+ dims only)"),
};

/** One instance: its hyper-parameters (the momentum is host-owned). */
typedef struct lion {
    double beta1, beta2, weight_decay;
} lion;

/** Everything one elementwise update needs; read-only for the parallel_for workers. */
typedef struct lion_job {
    float *p;
    const float *g;
    float *m;
    float beta1, one_minus_beta1, beta2, one_minus_beta2;
    float decay_factor;   /* 1 - lr * weight_decay, exactly 1 when no decay applies */
    float neg_lr;
} lion_job;

/** Updates elements [begin, end); branch-free, so the loop vectorises. */
static void lion_kernel(void *user, int64_t begin, int64_t end) {
    const lion_job *job = (const lion_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    const float b1 = job->beta1, omb1 = job->one_minus_beta1;
    const float b2 = job->beta2, omb2 = job->one_minus_beta2;
    const float decay = job->decay_factor, neg_lr = job->neg_lr;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float c = m[i] * b1 + omb1 * g[i];              /* interpolated direction  */
        p[i] = p[i] * decay + neg_lr * aglm_optim_sign(c);   /* decay, then sign step   */
        m[i] = m[i] * b2 + omb2 * g[i];                       /* momentum update         */
    }
}

/** create: reads and checks the hyper-parameters. */
static aglm_status lion_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    double betas[2];
    const double weight_decay = aglm_param_f64(host, params, "weight_decay");
    lion *self;
    (void)info;
    (void)layout;
    aglm_optim_betas(host, params, "betas", betas);
    self = (lion *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->beta1 = betas[0];
    self->beta2 = betas[1];
    self->weight_decay = weight_decay;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void lion_destroy(void *instance) { free(instance); }

/** declare_state: the momentum, shaped like the parameter. */
static aglm_status lion_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                      aglm_state_decl *decls, size_t capacity, size_t *count) {
    static const char *const names[1] = {"exp_avg"};
    (void)instance;
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names, 1, count);
}

/** step: one Lion update of one parameter, split over the host's worker threads. */
static aglm_status lion_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const lion *self = (const lion *)instance;
    lion_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, 1, NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.beta1 = (float)self->beta1;
    job.one_minus_beta1 = (float)(1.0 - self->beta1);
    job.beta2 = (float)self->beta2;
    job.one_minus_beta2 = (float)(1.0 - self->beta2);
    job.decay_factor = (float)(1.0 - args->lr * aglm_optim_weight_decay(args, self->weight_decay));
    job.neg_lr = (float)(-args->lr);
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, lion_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable lion_vtable = {
    sizeof(aglm_optimizer_vtable), lion_declare_state, NULL, lion_step,
};

/** init: registers the "lion" optimizer. */
static aglm_status lion_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "lion",
                       "Lion: sign of interpolated momentum, decoupled weight decay (Chen et al. 2023)",
                       "1.0.0", AGLM_SCHEMA(lion_params), lion_create, lion_destroy, &lion_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-lion", "1.0.0", lion_init);
