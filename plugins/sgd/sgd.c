/*
 * sgd — stochastic gradient descent with momentum, dampening, Nesterov momentum and coupled L2
 * weight decay, computed as PyTorch's torch.optim.SGD does (single-tensor path, maximize off).
 * Reference: Sutskever et al. 2013, "On the importance of initialization and momentum in deep
 * learning" (Nesterov form as formulated in torch.optim.SGD's documentation).
 *
 * One step of one parameter p with gradient g, learning rate lr (the host's), step t:
 *
 *     d <- g + weight_decay * p              only for parameters with decay = 1
 *     if momentum != 0:
 *         b <- d                               at t = 1 (torch clones the first d)
 *         b <- momentum * b + (1 - dampening) * d   for t > 1
 *         d <- d + momentum * b               nesterov
 *         d <- b                              otherwise
 *     p <- p - lr * d
 *
 * "t = 1" is the host's optimizer step counter (restored on resume); torch keys the clone on the
 * buffer being absent, which is the same thing whenever every parameter gets a gradient from the
 * first step on (the AutoGLM model always does).
 *
 * Parameters:
 *   momentum      float, default 0, in [0, 1]; 0 = plain SGD (no state buffer)
 *   dampening     float, default 0, in [0, 1]; scales the new gradient in the momentum average
 *   nesterov      bool, default false; needs momentum > 0 and dampening = 0 (refused otherwise,
 *                 as torch refuses it)
 *   weight_decay  float, default 0, >= 0; coupled L2 penalty added to the gradient (parameters
 *                 whose `decay` flag is 1 only)
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), shaped like the
 * parameter: "momentum_buffer" when momentum > 0, none otherwise.
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <stdlib.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec sgd_params[] = {
    AGLM_PARAM_FLOAT_SPEC("momentum", 0.0, 0.0, 1.0, "momentum factor; 0 disables momentum"),
    AGLM_PARAM_FLOAT_SPEC("dampening", 0.0, 0.0, 1.0,
                          "dampening of the gradient in the momentum buffer: b = m*b + (1-dampening)*g"),
    AGLM_PARAM_BOOL_SPEC("nesterov", 0,
                         "Nesterov momentum (requires momentum > 0 and dampening = 0)"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "coupled L2 penalty added to the gradient (parameters with 2+ dims only)"),
};

/** One instance: its hyper-parameters (the momentum buffers are host-owned). */
typedef struct sgd {
    double momentum, dampening, weight_decay;
    int nesterov;
} sgd;

/** Everything one elementwise update needs; read-only for the parallel_for workers. */
typedef struct sgd_job {
    float *p;
    const float *g;
    float *buf;        /* momentum buffer, NULL without momentum */
    float wd;          /* weight decay, 0 when the parameter is not decayed */
    float momentum;
    float one_minus_dampening;
    float neg_lr;
    int first;         /* step 1: the buffer takes d itself */
    int nesterov;
} sgd_job;

/** Updates elements [begin, end); the branches are loop-invariant, so the loops vectorise. */
static void sgd_kernel(void *user, int64_t begin, int64_t end) {
    const sgd_job *job = (const sgd_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    const float wd = job->wd, neg_lr = job->neg_lr, mu = job->momentum;
    const float omd = job->one_minus_dampening;
    const int64_t n = end - begin;
    int64_t i;
    if (job->buf == NULL) {
        for (i = 0; i < n; ++i) p[i] = p[i] + neg_lr * (g[i] + wd * p[i]);
        return;
    }
    {
        float *AGLM_RESTRICT b = job->buf + begin;
        const int first = job->first, nesterov = job->nesterov;
        for (i = 0; i < n; ++i) {
            const float d = g[i] + wd * p[i];               /* grad.add(p, alpha=wd) */
            const float bi = first ? d : b[i] * mu + omd * d; /* buf.mul_(m).add_(d, alpha=1-damp) */
            const float step = nesterov ? d + mu * bi : bi;  /* d.add(buf, alpha=m) or buf */
            b[i] = bi;
            p[i] = p[i] + neg_lr * step;                     /* p.add_(d, alpha=-lr) */
        }
    }
}

/** create: reads the hyper-parameters and refuses Nesterov without momentum or with dampening. */
static aglm_status sgd_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    const double momentum = aglm_param_f64(host, params, "momentum");
    const double dampening = aglm_param_f64(host, params, "dampening");
    const double weight_decay = aglm_param_f64(host, params, "weight_decay");
    const int nesterov = aglm_param_bool(host, params, "nesterov");
    sgd *self;
    (void)info;
    (void)layout;
    if (nesterov && (momentum <= 0.0 || dampening != 0.0))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "nesterov requires momentum > 0 and dampening = 0 (got momentum %g, "
                           "dampening %g)",
                           momentum, dampening);
    self = (sgd *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->momentum = momentum;
    self->dampening = dampening;
    self->weight_decay = weight_decay;
    self->nesterov = nesterov;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void sgd_destroy(void *instance) { free(instance); }

/** declare_state: a momentum buffer shaped like the parameter, when momentum is on. */
static aglm_status sgd_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                     aglm_state_decl *decls, size_t capacity, size_t *count) {
    static const char *const names[1] = {"momentum_buffer"};
    const sgd *self = (const sgd *)instance;
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names,
                                   self->momentum != 0.0 ? 1 : 0, count);
}

/** step: one SGD update of one parameter, split over the host's worker threads. */
static aglm_status sgd_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    const sgd *self = (const sgd *)instance;
    const int has_momentum = self->momentum != 0.0;
    sgd_job job;
    aglm_status st = aglm_optim_check_step(host, ctx, args, has_momentum ? 1 : 0, NULL);
    if (st != AGLM_OK) return st;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.buf = has_momentum ? (float *)args->states[0]->data : NULL;
    job.wd = (float)aglm_optim_weight_decay(args, self->weight_decay);
    job.momentum = (float)self->momentum;
    job.one_minus_dampening = (float)(1.0 - self->dampening);
    job.neg_lr = (float)(-args->lr);
    job.first = args->step == 1;
    job.nesterov = self->nesterov;
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, sgd_kernel, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable sgd_vtable = {
    sizeof(aglm_optimizer_vtable), sgd_declare_state, NULL, sgd_step,
};

/** init: registers the "sgd" optimizer. */
static aglm_status sgd_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "sgd",
                       "SGD with momentum, dampening, Nesterov and L2 decay (torch.optim.SGD)",
                       "1.0.0", AGLM_SCHEMA(sgd_params), sgd_create, sgd_destroy, &sgd_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-sgd", "1.0.0", sgd_init);
