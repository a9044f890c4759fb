/*
 * muon — Muon (MomentUm Orthogonalized by Newton-Schulz) for hidden weight matrices, with an
 * AdamW fallback for every other parameter, in one optimizer. Reference: Keller Jordan 2024,
 * "Muon: An optimizer for hidden layers in neural networks" (kellerjordan.github.io/posts/muon)
 * and its reference code (github.com/KellerJordan/Muon, muon.py: muon_update,
 * zeropower_via_newtonschulz5, SingleDeviceMuonWithAuxAdam), which this follows step for step.
 *
 * Which path a parameter takes is decided from the role the host gives it (ABI 1.2
 * aglm_param_info.role). Both declare_state (once per parameter, before the first step) and step
 * receive the parameter's aglm_param_info:
 *
 *     static int uses_muon(const aglm_param_info *param) {
 *         if (param->role != AGLM_ROLE_UNKNOWN) return (param->role & AGLM_ROLE_HIDDEN) != 0;
 *         return param->ndim >= 2;
 *     }
 *     declare_state(..., param, ...): uses_muon ? {"momentum_buffer"} : {"exp_avg", "exp_avg_sq"}
 *
 * so the hidden weight matrices (attention and MLP projections) use Muon, and the embeddings,
 * the output head (AutoGLM's tied token embedding is both) and the norm gains use AdamW, as the
 * reference prescribes, whatever the parameters are called. A parameter without a role (an
 * embedder that passes none) is taken as hidden when it has 2+ dimensions.
 *
 * Muon path, parameter P viewed as a matrix [R, K] (R = shape[0], K = numel / R; 3+-dim weights
 * are flattened as Keller Jordan does for conv filters), gradient G, host lr:
 *
 *     M  <- lerp(M, G, 1 - momentum)                = momentum * M + (1 - momentum) * G
 *     U  =  nesterov ? lerp(G, M, momentum) : M       (nesterov: (1 - momentum) G + momentum M)
 *     X  =  U / (||U||_F + 1e-7)                      (transposed when R > K, so X is wide)
 *     repeat ns_steps times:                          quintic Newton-Schulz, coefficients
 *         A = X X^T;  B = b A + c A A;  X = a X + B X     (a, b, c) = (3.4445, -4.7750, 2.0315)
 *     O  =  X (transposed back) * sqrt(max(1, R / K))
 *     P  <- P * (1 - lr * weight_decay) - lr * O      (decay only where the decay flag is 1)
 *
 * The reference runs the iteration in bfloat16 on GPUs; here it runs in float32 with the
 * host's sgemm (R > K is handled as A = X^T X, X = a X + X B, which is the same iteration on
 * the transpose without copying), and the Frobenius norm is accumulated in double.
 *
 * AdamW path (the reference's adam_update with decoupled weight decay), lr_a = lr * adamw_lr_ratio:
 *
 *     m  <- lerp(m, g, 1 - beta1);   v <- lerp(v, g * g, 1 - beta2)
 *     u  =  (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + adamw_eps)
 *     p  <- p * (1 - lr_a * weight_decay) - lr_a * u  (decay only where the decay flag is 1)
 *
 * Parameters:
 *   momentum        float, default 0.95, in [0, 1) (exclusive bound in the schema); Muon's momentum
 *   nesterov        bool, default true; Nesterov-style momentum for the Muon path
 *   ns_steps        int, default 5, in [1, 100]; Newton-Schulz iterations
 *   weight_decay    float, default 0, >= 0; decoupled, for both paths (decay = 1 params only)
 *   adamw_betas     float_list[2], default [0.9, 0.95], each in [0, 1); the fallback's betas
 *   adamw_eps       float, default 1e-10, > 0; the fallback's epsilon
 *   adamw_lr_ratio  float, default 0.015, in [0, 1000]; the fallback's lr = host lr * ratio
 *                   (0.015 = the reference example's 3e-4 AdamW lr over its 0.02 Muon lr)
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), shaped like the
 * parameter: "momentum_buffer" for Muon parameters; "exp_avg" and "exp_avg_sq" for AdamW ones.
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Quintic Newton-Schulz coefficients of the reference implementation. */
#define MUON_NS_A 3.4445f
#define MUON_NS_B (-4.7750f)
#define MUON_NS_C 2.0315f

/** Default of `adamw_betas` (the reference's AdamW defaults). */
static const double muon_default_betas[2] = {0.9, 0.95};

/** Parameter schema. */
static const aglm_param_spec muon_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("momentum", 0.95, 0.0, 1.0, AGLM_OPEN_MAX, "Muon momentum coefficient"),
    AGLM_PARAM_BOOL_SPEC("nesterov", 1, "Nesterov-style momentum on the Muon path"),
    AGLM_PARAM_INT_SPEC("ns_steps", 5, 1, 100, "Newton-Schulz iterations orthogonalising the update"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "decoupled weight decay for both paths (parameters with 2+ dims only)"),
    AGLM_OPTIM_BETAS_SPEC("adamw_betas", muon_default_betas, "AdamW fallback: moment decay rates"),
    AGLM_OPTIM_EPS_SPEC("adamw_eps", 1e-10, "AdamW fallback: epsilon"),
    AGLM_PARAM_FLOAT_SPEC("adamw_lr_ratio", 0.015, 0.0, 1000.0,
                          "AdamW fallback: its lr is the host lr times this ratio"),
};

/** One instance: hyper-parameters and a plugin-owned scratch buffer. */
typedef struct muon {
    double momentum, weight_decay, beta1, beta2, eps, lr_ratio;
    int nesterov;
    int64_t ns_steps;
    void *scratch;
    size_t scratch_bytes;
} muon;

/** The path decision (see the file comment). */
static int uses_muon(const aglm_param_info *param) {
    if (AGLM_HAS_FIELD(param, aglm_param_info, role) && param->role != AGLM_ROLE_UNKNOWN)
        return (param->role & AGLM_ROLE_HIDDEN) != 0;
    return param->ndim >= 2;
}

/** Elementwise work of one step; read-only for the workers (each writes only its own slice). */
typedef struct muon_job {
    float *p;
    const float *g;
    float *m, *v;              /* Muon: m = momentum_buffer; AdamW: exp_avg, exp_avg_sq */
    float *u;                  /* Muon: the update (scratch) */
    aglm_optim_lerp lerp_m;    /* weight 1 - momentum (Muon) or 1 - beta1 (AdamW) */
    aglm_optim_lerp lerp_u;    /* weight momentum (Muon nesterov) or 1 - beta2 (AdamW) */
    int nesterov;
    float inv_bc1, inv_bc2, eps;
    float decay_factor;        /* 1 - lr * weight_decay, exactly 1 without decay */
    float neg_scale;           /* -(lr * sqrt(max(1, R/K))) or -lr_a */
} muon_job;

/** Muon, elements [begin, end): momentum and the (Nesterov) update into u. */
static void muon_momentum(void *user, int64_t begin, int64_t end) {
    const muon_job *job = (const muon_job *)user;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    float *AGLM_RESTRICT u = job->u + begin;
    const aglm_optim_lerp lm = job->lerp_m, lu = job->lerp_u;
    const int nesterov = job->nesterov;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float mi = aglm_optim_lerp_apply(lm, m[i], g[i]);     /* momentum.lerp_(g, 1-b) */
        m[i] = mi;
        u[i] = nesterov ? aglm_optim_lerp_apply(lu, g[i], mi) : mi; /* g.lerp_(momentum, b)  */
    }
}

/** Sum of u^2 over [begin, end), for the Frobenius norm. */
static void muon_sum_u2(void *user, int64_t begin, int64_t end, double *sums) {
    const muon_job *job = (const muon_job *)user;
    const float *AGLM_RESTRICT u = job->u;
    double s = 0.0;
    int64_t i;
    for (i = begin; i < end; ++i) s += (double)u[i] * (double)u[i];
    sums[0] = s;
}

/** Muon, elements [begin, end): p <- p * decay - lr * scale * O (O is in job->u). */
static void muon_apply(void *user, int64_t begin, int64_t end) {
    const muon_job *job = (const muon_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT o = job->u + begin;
    const float decay = job->decay_factor, neg_scale = job->neg_scale;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) p[i] = p[i] * decay + neg_scale * o[i];
}

/** AdamW fallback, elements [begin, end). */
static void muon_adamw(void *user, int64_t begin, int64_t end) {
    const muon_job *job = (const muon_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT m = job->m + begin;
    float *AGLM_RESTRICT v = job->v + begin;
    const aglm_optim_lerp l1 = job->lerp_m, l2 = job->lerp_u;
    const float inv_bc1 = job->inv_bc1, inv_bc2 = job->inv_bc2, eps = job->eps;
    const float decay = job->decay_factor, neg_lr = job->neg_scale;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float mi = aglm_optim_lerp_apply(l1, m[i], g[i]);        /* buf1.lerp_(g, 1-b1)  */
        const float vi = aglm_optim_lerp_apply(l2, v[i], g[i] * g[i]); /* buf2.lerp_(g^2, 1-b2) */
        const float ui = (mi * inv_bc1) / (AGLM_SQRTF(vi * inv_bc2) + eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay + neg_lr * ui;     /* p.mul_(1 - lr wd); p.add_(u, alpha=-lr) */
    }
}

/** x[i] *= s for i < n. */
static void muon_scale(float *AGLM_RESTRICT x, int64_t n, float s) {
    int64_t i;
    for (i = 0; i < n; ++i) x[i] *= s;
}

/** Runs the quintic Newton-Schulz iteration in place on U [R, K] (already normalised) using
 *  scratch Y [R, K], A and B [mm, mm] with mm = min(R, K); the result ends up in *result. */
static void muon_newton_schulz(const muon *self, float *U, float *Y, float *A, float *B,
                               int64_t R, int64_t K, float **result) {
    const int tall = R > K;
    const int64_t mm = tall ? K : R, n = R * K;
    float *X = U, *Xn = Y, *swap;
    int64_t it;
    for (it = 0; it < self->ns_steps; ++it) {
        /* A = X X^T (wide) or X^T X (tall): [mm, mm] */
        if (tall)
            host->sgemm(1, 0, mm, mm, R, 1.0f, X, K, X, K, 0.0f, A, mm);
        else
            host->sgemm(0, 1, mm, mm, K, 1.0f, X, K, X, K, 0.0f, A, mm);
        /* B = b A + c A A */
        memcpy(B, A, (size_t)(mm * mm) * sizeof(float));
        muon_scale(B, mm * mm, MUON_NS_B);
        host->sgemm(0, 0, mm, mm, mm, MUON_NS_C, A, mm, A, mm, 1.0f, B, mm);
        /* Xn = a X + B X (wide) or a X + X B (tall; B is symmetric) */
        memcpy(Xn, X, (size_t)n * sizeof(float));
        if (tall)
            host->sgemm(0, 0, R, K, K, 1.0f, X, K, B, K, MUON_NS_A, Xn, K);
        else
            host->sgemm(0, 0, R, K, R, 1.0f, B, R, X, K, MUON_NS_A, Xn, K);
        swap = X;
        X = Xn;
        Xn = swap;
    }
    *result = X;
}

/** create: reads the hyper-parameters (their bounds are the schema's). */
static aglm_status muon_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    muon *self = (muon *)aglm_calloc(host, ctx, sizeof(muon));
    double betas[2];
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    aglm_optim_betas(host, params, "adamw_betas", betas);
    self->momentum = aglm_param_f64(host, params, "momentum");
    self->nesterov = aglm_param_bool(host, params, "nesterov");
    self->ns_steps = aglm_param_i64(host, params, "ns_steps");
    self->weight_decay = aglm_param_f64(host, params, "weight_decay");
    self->beta1 = betas[0];
    self->beta2 = betas[1];
    self->eps = aglm_param_f64(host, params, "adamw_eps");
    self->lr_ratio = aglm_param_f64(host, params, "adamw_lr_ratio");
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the scratch buffer and the instance. */
static void muon_destroy(void *instance) {
    muon *self = (muon *)instance;
    free(self->scratch);
    free(self);
}

/** declare_state: momentum_buffer for Muon parameters, exp_avg + exp_avg_sq for AdamW ones. */
static aglm_status muon_declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                      aglm_state_decl *decls, size_t capacity, size_t *count) {
    static const char *const muon_names[1] = {"momentum_buffer"};
    static const char *const adamw_names[2] = {"exp_avg", "exp_avg_sq"};
    const int use_muon = uses_muon(param);
    (void)instance;
    aglm_logf(host, ctx, AGLM_LOG_DEBUG, "%s: %s", param->name, use_muon ? "Muon" : "AdamW");
    return use_muon ? aglm_optim_declare_like(host, ctx, param, decls, capacity, muon_names, 1, count)
                    : aglm_optim_declare_like(host, ctx, param, decls, capacity, adamw_names, 2, count);
}

/** Muon update of one 2+-dim parameter. */
static aglm_status muon_step_matrix(muon *self, aglm_ctx *ctx, const aglm_optim_step *args) {
    const aglm_param_info *param = args->param;
    const int64_t n = param->numel, R = param->shape[0], K = R > 0 ? n / R : 0;
    const int64_t mm = R < K ? R : K;
    float *U, *Y, *A, *B, *O;
    double sum, norm;
    muon_job job;
    aglm_status st;
    if (n == 0) return AGLM_OK;
    U = (float *)aglm_optim_scratch(host, ctx, &self->scratch, &self->scratch_bytes,
                                    (size_t)(2 * n + 2 * mm * mm) * sizeof(float));
    if (U == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    Y = U + n;
    A = Y + n;
    B = A + mm * mm;
    memset(&job, 0, sizeof job);
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.u = U;
    job.lerp_m = aglm_optim_lerp_weight(1.0 - self->momentum);
    job.lerp_u = aglm_optim_lerp_weight(self->momentum);
    job.nesterov = self->nesterov;
    host->parallel_for(n, AGLM_OPTIM_CHUNK, muon_momentum, &job);
    if ((st = aglm_optim_reduce(host, ctx, n, AGLM_OPTIM_CHUNK, 1, muon_sum_u2, &job, &sum)))
        return st;
    norm = sqrt(sum);
    if (!isfinite(norm))
        return aglm_errorf(host, ctx, AGLM_ERR_NUMERIC, "%s: the momentum is not finite",
                           param->name);
    muon_scale(U, n, (float)(1.0 / (norm + 1e-7)));   /* X / (||X||_F + 1e-7) */
    muon_newton_schulz(self, U, Y, A, B, R, K, &O);
    job.u = O;
    job.decay_factor = (float)(1.0 - args->lr * aglm_optim_weight_decay(args, self->weight_decay));
    job.neg_scale = (float)(-(args->lr * sqrt(fmax(1.0, (double)R / (double)K))));
    host->parallel_for(n, AGLM_OPTIM_CHUNK, muon_apply, &job);
    return AGLM_OK;
}

/** AdamW update of one fallback parameter. */
static aglm_status muon_step_adamw(const muon *self, const aglm_optim_step *args) {
    const double t = (double)args->step, lr = args->lr * self->lr_ratio;
    muon_job job;
    memset(&job, 0, sizeof job);
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = (float *)args->states[0]->data;
    job.v = (float *)args->states[1]->data;
    job.lerp_m = aglm_optim_lerp_weight(1.0 - self->beta1);
    job.lerp_u = aglm_optim_lerp_weight(1.0 - self->beta2);
    job.inv_bc1 = (float)(1.0 / (1.0 - pow(self->beta1, t)));
    job.inv_bc2 = (float)(1.0 / (1.0 - pow(self->beta2, t)));
    job.eps = (float)self->eps;
    job.decay_factor = (float)(1.0 - lr * aglm_optim_weight_decay(args, self->weight_decay));
    job.neg_scale = (float)(-lr);
    host->parallel_for(args->param->numel, AGLM_OPTIM_CHUNK, muon_adamw, &job);
    return AGLM_OK;
}

/** step: Muon for hidden matrices, AdamW for the rest. */
static aglm_status muon_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    muon *self = (muon *)instance;
    const int use_muon = uses_muon(args->param);
    aglm_status st = aglm_optim_check_step(host, ctx, args, use_muon ? 1 : 2, NULL);
    if (st != AGLM_OK) return st;
    return use_muon ? muon_step_matrix(self, ctx, args) : muon_step_adamw(self, args);
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable muon_vtable = {
    sizeof(aglm_optimizer_vtable), muon_declare_state, NULL, muon_step,
};

/** init: registers the "muon" optimizer. */
static aglm_status muon_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "muon",
                       "Muon: Newton-Schulz orthogonalised momentum for hidden matrices, AdamW for the rest",
                       "1.0.0", AGLM_SCHEMA(muon_params), muon_create, muon_destroy, &muon_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-muon", "1.0.0", muon_init);
