/*
 * adamw — the AdamW optimizer (decoupled weight decay), computed exactly as PyTorch's
 * torch.optim.AdamW does on the CPU (single-tensor path), so runs can be compared with torch:
 *
 *     p   <- p * (1 - lr * weight_decay)              only for parameters with decay = 1
 *     m   <- lerp(m, g, 1 - beta1)                    = beta1 * m + (1 - beta1) * g
 *     v   <- v * beta2 + (1 - beta2) * g * g
 *     vm  <- max(vm, v)                               amsgrad only; vm is used instead of v below
 *     bc1 =  1 - beta1^t,  bc2 = 1 - beta2^t          (double, t = 1-based step)
 *     p   <- p + (-(lr / bc1) * m) / (sqrt(v) / sqrt(bc2) + eps)
 *
 * The buffers are float32 and every elementwise operation rounds in float32 in torch's order
 * (its CPU kernels for mul_, lerp_, addcmul_, sqrt, div, add_ and addcdiv_); the scalar factors
 * are computed in double and rounded to float once, as torch does with Python scalars. Without
 * FMA (baseline x86-64) this reproduces the formula above in float32 bit for bit; torch's own
 * vectorised lerp uses an FMA, so the two may differ in the last bit of exp_avg. On targets with
 * FMA, -ffp-contract=fast (Package.swift) lets the compiler fuse other products too: expect
 * agreement to about 1 ulp per step there.
 *
 * Parameters:
 *   betas         float_list[2], default [0.9, 0.999], each in [0, 1)
 *   eps           float, default 1e-8, > 0
 *   weight_decay  float, default 0.01, >= 0 (applied only to parameters whose `decay` flag is 1)
 *   amsgrad       bool, default false
 *
 * State buffers (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), each with
 * the parameter's shape: "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" when amsgrad is on.
 */
#include <autoglm/helpers.h>
#include "../common/aglm_optim_util.h"

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Default of `betas`. */
static const double default_betas[2] = {0.9, 0.999};

/** Parameter schema. */
static const aglm_param_spec adamw_params[] = {
    AGLM_OPTIM_BETAS_SPEC("betas", default_betas,
                          "decay rates of the first and second moment averages, each in [0, 1)"),
    AGLM_OPTIM_EPS_SPEC("eps", 1e-8,
                        "added to the denominator for numerical stability (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.01, 0.0, INFINITY,
                          "decoupled weight decay coefficient (parameters with 2+ dims only)"),
    AGLM_PARAM_BOOL_SPEC("amsgrad", 0,
                         "use the running maximum of the second moment (AMSGrad variant)"),
};

/** Everything one elementwise update needs; shared read-only by the parallel_for workers. */
typedef struct adamw_job {
    float *p;                 /* parameter, updated in place */
    const float *g;           /* gradient */
    float *m, *v, *vmax;      /* exp_avg, exp_avg_sq, max_exp_avg_sq (NULL without amsgrad) */
    float decay_factor;       /* 1 - lr * weight_decay, or exactly 1 when no decay applies */
    aglm_optim_lerp lerp;     /* lerp weight 1 - beta1 */
    float beta2, one_minus_beta2;
    float bc2_sqrt;           /* sqrt(1 - beta2^t) */
    float eps;
    float neg_step_size;      /* -(lr / (1 - beta1^t)) */
} adamw_job;

/** Updates elements [begin, end) of one parameter, in one pass over memory. Runs on host
 *  worker threads; each chunk touches only its own slice. The loop vectorises (Clang; GCC needs
 *  -fno-math-errno for the sqrt): its branches are loop-invariant, AGLM_SQRTF has no errno side
 *  effect, and p * 1.0f == p exactly when no decay applies. */
static void adamw_kernel(void *user, int64_t begin, int64_t end) {
    const adamw_job *job = (const adamw_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    float *AGLM_RESTRICT v = job->v + begin;
    float *AGLM_RESTRICT vmax = job->vmax != NULL ? job->vmax + begin : NULL;
    const int64_t n = end - begin;
    const float decay = job->decay_factor;
    const aglm_optim_lerp lerp = job->lerp;
    const float beta2 = job->beta2, omb2 = job->one_minus_beta2;
    const float bc2_sqrt = job->bc2_sqrt, eps = job->eps, neg_step = job->neg_step_size;
    int64_t i;

    for (i = 0; i < n; ++i) {
        const float gi = g[i];
        const float pi = p[i] * decay;                              /* p.mul_(1 - lr * wd)      */
        const float mi = aglm_optim_lerp_apply(lerp, m[i], gi);     /* m.lerp_(g, 1 - beta1)    */
        const float vi = v[i] * beta2 + omb2 * gi * gi;          /* v.mul_(b2).addcmul_(g, g, 1-b2) */
        float vd = vi;
        if (vmax != NULL) {                                         /* torch.maximum(vmax, v)   */
            vd = vmax[i] > vi ? vmax[i] : vi;
            vmax[i] = vd;
        }
        m[i] = mi;
        v[i] = vi;
        /* denom = v.sqrt() / bc2_sqrt + eps;  p.addcdiv_(m, denom, value=-step_size) */
        p[i] = pi + neg_step * mi / (AGLM_SQRTF(vd) / bc2_sqrt + eps);
    }
}

/** create: reads and checks the hyper-parameters (an aglm_optim_adam). */
static aglm_status adamw_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                void *layout, void **instance) {
    (void)info;
    (void)layout;
    return aglm_optim_adam_create(host, ctx, params, instance);
}

/** destroy: frees the instance. */
static void adamw_destroy(void *instance) { free(instance); }

/** declare_state: exp_avg, exp_avg_sq (+ max_exp_avg_sq), each shaped like the parameter. */
static aglm_status adamw_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                       aglm_state_decl *decls, size_t capacity, size_t *count) {
    return aglm_optim_adam_declare_state(host, ctx, (const aglm_optim_adam *)instance, param,
                                         decls, capacity, count);
}

/** step: one AdamW update of one parameter, split over the host's worker threads. */
static aglm_status adamw_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const aglm_optim_adam *self = (const aglm_optim_adam *)instance;
    const int64_t n = args->param->numel;
    const double t = (double)args->step;
    const double bc1 = 1.0 - pow(self->hp.beta1, t);
    const double bc2 = 1.0 - pow(self->hp.beta2, t);
    adamw_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, aglm_optim_adam_states(self), NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.v = (float *)args->states[1]->data;
    job.vmax = self->amsgrad ? (float *)args->states[2]->data : NULL;
    job.decay_factor = (float)(1.0 - args->lr * aglm_optim_weight_decay(args, self->hp.weight_decay));
    job.lerp = aglm_optim_lerp_weight(1.0 - self->hp.beta1);
    job.beta2 = (float)self->hp.beta2;
    job.one_minus_beta2 = (float)(1.0 - self->hp.beta2);
    job.bc2_sqrt = (float)sqrt(bc2);
    job.eps = (float)self->hp.eps;
    job.neg_step_size = (float)(-(args->lr / bc1));
    host->parallel_for(n, AGLM_OPTIM_CHUNK, adamw_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable adamw_vtable = {
    sizeof(aglm_optimizer_vtable), adamw_declare_state, NULL, adamw_step,
};

/** init: registers the "adamw" optimizer. */
static aglm_status adamw_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "adamw",
                       "AdamW with decoupled weight decay, identical to torch.optim.AdamW", "1.0.0",
                       AGLM_SCHEMA(adamw_params), adamw_create, adamw_destroy, &adamw_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-adamw", "1.0.0", adamw_init);
