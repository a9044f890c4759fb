/*
 * lamb — the LAMB optimizer (Layer-wise Adaptive Moments for Batch training). Reference: You et
 * al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes" (ICLR 2020),
 * Algorithm 2.
 *
 * Exact variant implemented, per parameter tensor (one "layer" = one parameter tensor):
 *
 *     m   <- beta1 * m + (1 - beta1) * g
 *     v   <- beta2 * v + (1 - beta2) * g * g
 *     m^  =  m / (1 - beta1^t),   v^ = v / (1 - beta2^t)          bias correction (always on)
 *     r   =  m^ / (sqrt(v^) + eps) + weight_decay * p              weight_decay only where the
 *                                                                 parameter's decay flag is 1
 *     ratio = ||p|| / ||r||    (Euclidean norms over the whole tensor, phi = identity;
 *                               ratio = 1 when ||p|| = 0 or ||r|| = 0)
 *     p   <- p - lr * ratio * r
 *
 * The trust ratio is applied to every parameter (also the 1-D ones), as in the paper's
 * algorithm and NVIDIA's/TF-Addons' implementations; there is no clamp on phi. The norms are
 * accumulated in double over fixed blocks and summed in block order, so the result does not
 * depend on the number of threads. lr is the host's.
 *
 * Parameters:
 *   betas         float_list[2], default [0.9, 0.999], each in [0, 1)
 *   eps           float, default 1e-6 (the paper's value), > 0
 *   weight_decay  float, default 0.01 (the paper's BERT setting), >= 0
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), each shaped like
 * the parameter: "exp_avg", "exp_avg_sq".
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Default of `betas`. */
static const double lamb_default_betas[2] = {0.9, 0.999};

/** Parameter schema. */
static const aglm_param_spec lamb_params[] = {
    AGLM_OPTIM_BETAS_SPEC("betas", lamb_default_betas,
                          "decay rates of the first and second moment averages, each in [0, 1)"),
    AGLM_OPTIM_EPS_SPEC("eps", 1e-6,
                        "added to the denominator for numerical stability (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.01, 0.0, INFINITY,
                          "weight decay added to the update before the trust ratio (2+-dim params only)"),
};

/** One instance: hyper-parameters and a plugin-owned scratch buffer holding r. */
typedef struct lamb {
    aglm_optim_adam_params hp; /* betas, eps, weight_decay */
    void *scratch;
    size_t scratch_bytes;
} lamb;

/** What both passes need; read-only for the workers (each writes only its own slice). */
typedef struct lamb_job {
    float *p;
    const float *g;
    float *m, *v, *r;
    float beta1, one_minus_beta1, beta2, one_minus_beta2;
    float inv_bc1, inv_bc2;   /* 1 / (1 - beta^t) */
    float eps, wd;
    float neg_scale;          /* -(lr * ratio) */
} lamb_job;

/** Pass 1 over [begin, end): updates the moments, writes r, sums r^2 and p^2 (in double). */
static void lamb_moments(void *user, int64_t begin, int64_t end, double *sums) {
    const lamb_job *job = (const lamb_job *)user;
    const float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    float *AGLM_RESTRICT v = job->v + begin;
    float *AGLM_RESTRICT r = job->r + begin;
    const float b1 = job->beta1, omb1 = job->one_minus_beta1;
    const float b2 = job->beta2, omb2 = job->one_minus_beta2;
    const float inv_bc1 = job->inv_bc1, inv_bc2 = job->inv_bc2, eps = job->eps, wd = job->wd;
    const int64_t n = end - begin;
    double rr = 0.0, pp = 0.0;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float gi = g[i];
        const float mi = m[i] * b1 + omb1 * gi;
        const float vi = v[i] * b2 + omb2 * gi * gi;
        const float ri = (mi * inv_bc1) / (AGLM_SQRTF(vi * inv_bc2) + eps) + wd * p[i];
        m[i] = mi;
        v[i] = vi;
        r[i] = ri;
        rr += (double)ri * (double)ri;
        pp += (double)p[i] * (double)p[i];
    }
    sums[0] = rr;
    sums[1] = pp;
}

/** Pass 2 over [begin, end): p <- p - lr * ratio * r. */
static void lamb_apply(void *user, int64_t begin, int64_t end) {
    const lamb_job *job = (const lamb_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT r = job->r + begin;
    const float neg_scale = job->neg_scale;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) p[i] = p[i] + neg_scale * r[i];
}

/** create: reads and checks the hyper-parameters. */
static aglm_status lamb_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    aglm_optim_adam_params hp;
    lamb *self;
    (void)info;
    (void)layout;
    aglm_optim_adam_read(host, params, &hp);
    self = (lamb *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->hp = hp;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the scratch buffer and the instance. */
static void lamb_destroy(void *instance) {
    lamb *self = (lamb *)instance;
    free(self->scratch);
    free(self);
}

/** declare_state: exp_avg and exp_avg_sq, shaped like the parameter. */
static aglm_status lamb_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                      aglm_state_decl *decls, size_t capacity, size_t *count) {
    static const char *const names[2] = {"exp_avg", "exp_avg_sq"};
    (void)instance;
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names, 2, count);
}

/** step: moments and norms in one parallel pass, then the trust-ratio-scaled update. */
static aglm_status lamb_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    lamb *self = (lamb *)instance;
    const int64_t n = args->param->numel;
    const double t = (double)args->step;
    double sums[2], r_norm, p_norm, ratio;
    lamb_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, 2, NULL);
    if (st != AGLM_OK) return st;
    job.r = (float *)aglm_optim_scratch(host, ctx, &self->scratch, &self->scratch_bytes,
                                        (size_t)n * sizeof(float));
    if (job.r == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.v = (float *)args->states[1]->data;
    job.beta1 = (float)self->hp.beta1;
    job.one_minus_beta1 = (float)(1.0 - self->hp.beta1);
    job.beta2 = (float)self->hp.beta2;
    job.one_minus_beta2 = (float)(1.0 - self->hp.beta2);
    job.inv_bc1 = (float)(1.0 / (1.0 - pow(self->hp.beta1, t)));
    job.inv_bc2 = (float)(1.0 / (1.0 - pow(self->hp.beta2, t)));
    job.eps = (float)self->hp.eps;
    job.wd = (float)aglm_optim_weight_decay(args, self->hp.weight_decay);
    if ((st = aglm_optim_reduce(host, ctx, n, AGLM_OPTIM_CHUNK, 2, lamb_moments, &job, sums)) !=
        AGLM_OK)
        return st;
    r_norm = sqrt(sums[0]);
    p_norm = sqrt(sums[1]);
    ratio = (r_norm > 0.0 && p_norm > 0.0) ? p_norm / r_norm : 1.0;
    if (!isfinite(ratio))
        return aglm_errorf(host, ctx, AGLM_ERR_NUMERIC,
                           "%s: trust ratio is not finite (||p|| = %g, ||r|| = %g)",
                           args->param->name, p_norm, r_norm);
    job.neg_scale = (float)(-(args->lr * ratio));
    host->parallel_for(n, AGLM_OPTIM_CHUNK, lamb_apply, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable lamb_vtable = {
    sizeof(aglm_optimizer_vtable), lamb_declare_state, NULL, lamb_step,
};

/** init: registers the "lamb" optimizer. */
static aglm_status lamb_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "lamb",
                       "LAMB: Adam moments scaled per tensor by the trust ratio ||p||/||r|| (You et al. 2019)",
                       "1.0.0", AGLM_SCHEMA(lamb_params), lamb_create, lamb_destroy, &lamb_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-lamb", "1.0.0", lamb_init);
