/*
 * rmsprop — RMSprop with optional momentum, centering and coupled L2 weight decay, computed as
 * PyTorch's torch.optim.RMSprop does (single-tensor path, maximize off). Reference: Hinton,
 * "Neural Networks for Machine Learning", lecture 6e (2012); the centered variant from Graves
 * 2013, "Generating Sequences With Recurrent Neural Networks", eq. 38-45.
 *
 * One step of one parameter p with gradient g, learning rate lr (the host's):
 *
 *     g   <- g + weight_decay * p                    only for parameters with decay = 1
 *     s   <- alpha * s + (1 - alpha) * g * g          square_avg
 *     if centered:
 *         a   <- lerp(a, g, 1 - alpha)                grad_avg = alpha * a + (1 - alpha) * g
 *         den <- sqrt(max(s - a * a, 0)) + eps
 *     else:
 *         den <- sqrt(s) + eps
 *     if momentum > 0:
 *         b <- momentum * b + g / den                 momentum_buffer
 *         p <- p - lr * b
 *     else:
 *         p <- p - lr * g / den
 *
 * The max(., 0) only differs from torch where rounding makes s - a*a slightly negative (torch
 * would produce NaN there); mathematically s >= a*a always holds.
 *
 * Parameters:
 *   alpha         float, default 0.99, in [0, 1]; smoothing constant of the averages
 *   eps           float, default 1e-8, > 0; added to the denominator
 *   weight_decay  float, default 0, >= 0; coupled L2 (parameters whose `decay` flag is 1 only)
 *   momentum      float, default 0, in [0, 1]; 0 = no momentum buffer
 *   centered      bool, default false; normalise by the estimated variance of the gradient
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), shaped like the
 * parameter, in this order: "square_avg", "momentum_buffer" (momentum > 0), "grad_avg" (centered).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec rmsprop_params[] = {
    AGLM_PARAM_FLOAT_SPEC("alpha", 0.99, 0.0, 1.0,
                          "smoothing constant of the squared-gradient (and gradient) averages"),
    AGLM_OPTIM_EPS_SPEC("eps", 1e-8,
                        "added to the denominator for numerical stability (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "coupled L2 penalty added to the gradient (parameters with 2+ dims only)"),
    AGLM_PARAM_FLOAT_SPEC("momentum", 0.0, 0.0, 1.0, "momentum factor; 0 disables momentum"),
    AGLM_PARAM_BOOL_SPEC("centered", 0,
                         "normalise by the estimated gradient variance instead of its second moment"),
};

/** One instance: its hyper-parameters (the averages are host-owned). */
typedef struct rmsprop {
    double alpha, eps, weight_decay, momentum;
    int centered;
} rmsprop;

/** Everything one elementwise update needs; read-only for the parallel_for workers. */
typedef struct rmsprop_job {
    float *p;
    const float *g;
    float *sq;            /* square_avg */
    float *buf;           /* momentum_buffer or NULL */
    float *ga;            /* grad_avg or NULL */
    float wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
    aglm_optim_lerp lerp; /* weight 1 - alpha, for grad_avg */
} rmsprop_job;

/** Updates elements [begin, end); branches are loop-invariant, so the loop vectorises. */
static void rmsprop_kernel(void *user, int64_t begin, int64_t end) {
    const rmsprop_job *job = (const rmsprop_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT sq = job->sq + begin;
    float *AGLM_RESTRICT buf = job->buf != NULL ? job->buf + begin : NULL;
    float *AGLM_RESTRICT ga = job->ga != NULL ? job->ga + begin : NULL;
    const float wd = job->wd, alpha = job->alpha, oma = job->one_minus_alpha, eps = job->eps;
    const float mu = job->momentum, neg_lr = job->neg_lr;
    const aglm_optim_lerp lerp = job->lerp;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];              /* grad.add(p, alpha=wd)              */
        const float si = sq[i] * alpha + oma * gi * gi; /* sq.mul_(alpha).addcmul_(g, g, 1-a) */
        float var = si, den;
        sq[i] = si;
        if (ga != NULL) {                               /* centered                           */
            const float ai = aglm_optim_lerp_apply(lerp, ga[i], gi);
            ga[i] = ai;
            var = si + -1.0f * ai * ai;                 /* sq.addcmul(ga, ga, value=-1)       */
            var = var > 0.0f ? var : 0.0f;
        }
        den = AGLM_SQRTF(var) + eps;
        if (buf != NULL) {
            const float bi = buf[i] * mu + gi / den;    /* buf.mul_(m).addcdiv_(g, den)       */
            buf[i] = bi;
            p[i] = p[i] + neg_lr * bi;                  /* p.add_(buf, alpha=-lr)             */
        } else {
            p[i] = p[i] + neg_lr * (gi / den);          /* p.addcdiv_(g, den, value=-lr)      */
        }
    }
}

/** create: reads and checks the hyper-parameters. */
static aglm_status rmsprop_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                  void *layout, void **instance) {
    const double alpha = aglm_param_f64(host, params, "alpha");
    const double eps = aglm_param_f64(host, params, "eps");
    const double weight_decay = aglm_param_f64(host, params, "weight_decay");
    const double momentum = aglm_param_f64(host, params, "momentum");
    rmsprop *self;
    (void)info;
    (void)layout;
    self = (rmsprop *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->alpha = alpha;
    self->eps = eps;
    self->weight_decay = weight_decay;
    self->momentum = momentum;
    self->centered = aglm_param_bool(host, params, "centered");
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void rmsprop_destroy(void *instance) { free(instance); }

/** Number of state buffers: square_avg, then momentum_buffer and grad_avg when enabled. */
static size_t rmsprop_state_count(const rmsprop *self) {
    return 1 + (self->momentum > 0.0 ? 1 : 0) + (self->centered ? 1 : 0);
}

/** declare_state: square_avg (+ momentum_buffer) (+ grad_avg), shaped like the parameter. */
static aglm_status rmsprop_declare_state(void *instance, aglm_ctx *ctx,
                                         const aglm_param_info *param, aglm_state_decl *decls,
                                         size_t capacity, size_t *count) {
    const rmsprop *self = (const rmsprop *)instance;
    const char *names[3];
    size_t n = 0;
    names[n++] = "square_avg";
    if (self->momentum > 0.0) names[n++] = "momentum_buffer";
    if (self->centered) names[n++] = "grad_avg";
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names, n, count);
}

/** step: one RMSprop update of one parameter, split over the host's worker threads. */
static aglm_status rmsprop_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const rmsprop *self = (const rmsprop *)instance;
    rmsprop_job job;
    size_t next = 1;
    aglm_status st = aglm_optim_check_step(host, ctx, args, rmsprop_state_count(self), NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.sq = (float *)args->states[0]->data;
    job.buf = self->momentum > 0.0 ? (float *)args->states[next++]->data : NULL;
    job.ga = self->centered ? (float *)args->states[next++]->data : NULL;
    job.wd = (float)aglm_optim_weight_decay(args, self->weight_decay);
    job.alpha = (float)self->alpha;
    job.one_minus_alpha = (float)(1.0 - self->alpha);
    job.eps = (float)self->eps;
    job.momentum = (float)self->momentum;
    job.neg_lr = (float)(-args->lr);
    job.lerp = aglm_optim_lerp_weight(1.0 - self->alpha);
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, rmsprop_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable rmsprop_vtable = {
    sizeof(aglm_optimizer_vtable), rmsprop_declare_state, NULL, rmsprop_step,
};

/** init: registers the "rmsprop" optimizer. */
static aglm_status rmsprop_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "rmsprop",
                       "RMSprop with optional momentum and centering (torch.optim.RMSprop)",
                       "1.0.0", AGLM_SCHEMA(rmsprop_params), rmsprop_create, rmsprop_destroy,
                       &rmsprop_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-rmsprop", "1.0.0", rmsprop_init);
