/*
 * adam — the Adam optimizer with coupled L2 weight decay (the penalty is added to the gradient,
 * unlike AdamW's decoupled decay), computed as PyTorch's torch.optim.Adam does (single-tensor
 * path). Reference: Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", Algorithm 1;
 * AMSGrad from Reddi et al. 2018, "On the Convergence of Adam and Beyond".
 *
 * One step of one parameter p with gradient g, learning rate lr (the host's), step t:
 *
 *     g   <- g + weight_decay * p             only for parameters with decay = 1
 *     m   <- lerp(m, g, 1 - beta1)            = beta1 * m + (1 - beta1) * g
 *     v   <- v * beta2 + (1 - beta2) * g * g
 *     vm  <- max(vm, v)                        amsgrad only; vm replaces v below
 *     bc1 =  1 - beta1^t,  bc2 = 1 - beta2^t   (double)
 *     p   <- p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
 *
 * The float32 operations follow torch's order (lerp_, mul_/addcmul_, sqrt, div, add_, addcdiv_);
 * scalar factors are computed in double and rounded once, as torch does with Python scalars.
 *
 * Parameters:
 *   betas         float_list[2], default [0.9, 0.999], each in [0, 1)
 *   eps           float, default 1e-8, > 0
 *   weight_decay  float, default 0, >= 0; coupled L2 (parameters whose `decay` flag is 1 only)
 *   amsgrad       bool, default false
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), each shaped like
 * the parameter: "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" when amsgrad is on.
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Default of `betas`. */
static const double adam_default_betas[2] = {0.9, 0.999};

/** Parameter schema. */
static const aglm_param_spec adam_params[] = {
    AGLM_OPTIM_BETAS_SPEC("betas", adam_default_betas,
                          "decay rates of the first and second moment averages, each in [0, 1)"),
    AGLM_OPTIM_EPS_SPEC("eps", 1e-8,
                        "added to the denominator for numerical stability (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "coupled L2 penalty added to the gradient (parameters with 2+ dims only)"),
    AGLM_PARAM_BOOL_SPEC("amsgrad", 0,
                         "use the running maximum of the second moment (AMSGrad variant)"),
};

/** Everything one elementwise update needs; read-only for the parallel_for workers. */
typedef struct adam_job {
    float *p;
    const float *g;
    float *m, *v, *vmax;       /* exp_avg, exp_avg_sq, max_exp_avg_sq (NULL without amsgrad) */
    float wd;                  /* weight decay, 0 when the parameter is not decayed */
    aglm_optim_lerp lerp;      /* lerp weight 1 - beta1 */
    float beta2, one_minus_beta2;
    float bc2_sqrt;
    float eps;
    float neg_step_size;       /* -(lr / (1 - beta1^t)) */
} adam_job;

/** Updates elements [begin, end) in one pass; vectorises (loop-invariant branches, AGLM_SQRTF). */
static void adam_kernel(void *user, int64_t begin, int64_t end) {
    const adam_job *job = (const adam_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    float *AGLM_RESTRICT v = job->v + begin;
    float *AGLM_RESTRICT vmax = job->vmax != NULL ? job->vmax + begin : NULL;
    const aglm_optim_lerp lerp = job->lerp;
    const float wd = job->wd, beta2 = job->beta2, omb2 = job->one_minus_beta2;
    const float bc2_sqrt = job->bc2_sqrt, eps = job->eps, neg_step = job->neg_step_size;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];                   /* grad.add(p, alpha=wd)       */
        const float mi = aglm_optim_lerp_apply(lerp, m[i], gi); /* m.lerp_(g, 1 - beta1)   */
        const float vi = v[i] * beta2 + omb2 * gi * gi;      /* v.mul_(b2).addcmul_(g, g)   */
        float vd = vi;
        if (vmax != NULL) {                                  /* torch.maximum(vmax, v)      */
            vd = vmax[i] > vi ? vmax[i] : vi;
            vmax[i] = vd;
        }
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] + neg_step * mi / (AGLM_SQRTF(vd) / bc2_sqrt + eps);
    }
}

/** create: reads and checks the hyper-parameters (an aglm_optim_adam). */
static aglm_status adam_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    (void)info;
    (void)layout;
    return aglm_optim_adam_create(host, ctx, params, instance);
}

/** destroy: frees the instance. */
static void adam_destroy(void *instance) { free(instance); }

/** declare_state: exp_avg, exp_avg_sq (+ max_exp_avg_sq), each shaped like the parameter. */
static aglm_status adam_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                      aglm_state_decl *decls, size_t capacity, size_t *count) {
    return aglm_optim_adam_declare_state(host, ctx, (const aglm_optim_adam *)instance, param,
                                         decls, capacity, count);
}

/** step: one Adam update of one parameter, split over the host's worker threads. */
static aglm_status adam_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const aglm_optim_adam *self = (const aglm_optim_adam *)instance;
    const double t = (double)args->step;
    adam_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, aglm_optim_adam_states(self), NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.v = (float *)args->states[1]->data;
    job.vmax = self->amsgrad ? (float *)args->states[2]->data : NULL;
    job.wd = (float)aglm_optim_weight_decay(args, self->hp.weight_decay);
    job.lerp = aglm_optim_lerp_weight(1.0 - self->hp.beta1);
    job.beta2 = (float)self->hp.beta2;
    job.one_minus_beta2 = (float)(1.0 - self->hp.beta2);
    job.bc2_sqrt = (float)sqrt(1.0 - pow(self->hp.beta2, t));
    job.eps = (float)self->hp.eps;
    job.neg_step_size = (float)(-(args->lr / (1.0 - pow(self->hp.beta1, t))));
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, adam_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable adam_vtable = {
    sizeof(aglm_optimizer_vtable), adam_declare_state, NULL, adam_step,
};

/** init: registers the "adam" optimizer. */
static aglm_status adam_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "adam",
                       "Adam with coupled L2 weight decay and optional AMSGrad (torch.optim.Adam)",
                       "1.0.0", AGLM_SCHEMA(adam_params), adam_create, adam_destroy, &adam_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-adam", "1.0.0", adam_init);
