/*
 * adafactor — Adafactor: adaptive steps from factored second moments, with sublinear memory.
 * Reference: Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
 * Cost" (Algorithms 4 and 5, update clipping of section 6, decay schedule of section 7.2),
 * implemented step for step as the widely used HuggingFace transformers `Adafactor` (itself a
 * port of fairseq's) with its defaults, except that relative steps are off by default so the
 * host's learning-rate schedule drives the step size.
 *
 * One step of one parameter X with gradient G, step t (1-based), host learning rate lr:
 *
 *   rho   = relative_step ? min(warmup_init ? 1e-6 * t : 1e-2, 1 / sqrt(t)) : lr
 *   alpha = scale_parameter ? max(eps2, RMS(X)) * rho : rho          RMS(x) = ||x||_2 / sqrt(n)
 *   beta2 = 1 - t^decay_rate                                          (0 at t = 1)
 *   Q     = G^2 + eps1                                                elementwise
 *   X with 2+ dims, viewed as [B, R, C] (factored over the last two dims, B = leading extents):
 *     Rw[b, r] <- beta2 * Rw[b, r] + (1 - beta2) * mean_c Q[b, r, c]      exp_avg_sq_row
 *     Cl[b, c] <- beta2 * Cl[b, c] + (1 - beta2) * mean_r Q[b, r, c]      exp_avg_sq_col
 *     U[b, r, c] = G[b, r, c] * rsqrt(Rw[b, r] / mean_r' Rw[b, r']) * rsqrt(Cl[b, c])
 *   X with 1 dim (or 0):
 *     V <- beta2 * V + (1 - beta2) * Q                                    exp_avg_sq
 *     U = G * rsqrt(V)
 *   U <- U / max(1, RMS(U) / clip_threshold)                          update clipping
 *   U <- alpha * U
 *   if beta1 > 0:  M <- beta1 * M + (1 - beta1) * U;  U = M           first moment (exp_avg)
 *   X <- X - weight_decay * alpha * X                                 decay = 1 parameters only
 *   X <- X - U
 *
 * The row/column means and the RMS values are accumulated in double; the per-element work is
 * float32, split over the host's threads in fixed blocks (results do not depend on the thread
 * count). When relative_step is on, the host's lr (and therefore its schedule) is ignored.
 *
 * Parameters:
 *   eps1             float, default 1e-30, > 0; added to the squared gradient
 *   eps2             float, default 1e-3, >= 0; lower bound of RMS(X) in the parameter scale
 *   clip_threshold   float, default 1.0, > 0; the update-clipping threshold d
 *   decay_rate       float, default -0.8, in [-1, 0]; the exponent c of beta2 = 1 - t^c
 *   beta1            float, default 0, in [0, 1); 0 = no first moment (no exp_avg buffer)
 *   weight_decay     float, default 0, >= 0; decoupled, scaled by alpha (decay = 1 params only)
 *   scale_parameter  bool, default false; multiply the step size by max(eps2, RMS(X))
 *   relative_step    bool, default false; use the paper's rho_t instead of the host's lr
 *   warmup_init      bool, default false; rho_t = min(1e-6 t, 1/sqrt(t)) (needs relative_step)
 *
 * State (host-owned, zero-initialised, checkpointed as optim/<param>/<name>), in this order:
 * "exp_avg" (shaped like X, only when beta1 > 0), then for 2+-dim parameters "exp_avg_sq_row"
 * (X's shape without its last dim) and "exp_avg_sq_col" (X's shape without its second-to-last
 * dim), or for 1-dim parameters "exp_avg_sq" (shaped like X).
 */
#include <autoglm/helpers.h>

#include "../common/aglm_optim_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init. */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec adafactor_params[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("eps1", 1e-30, 0.0, 1.0, AGLM_OPEN_MIN,
                                "regularisation added to the squared gradient (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("eps2", 1e-3, 0.0, 1.0,
                          "lower bound of the parameter RMS used by scale_parameter"),
    AGLM_PARAM_FLOAT_RANGE_SPEC("clip_threshold", 1.0, 0.0, INFINITY, AGLM_OPEN_MIN,
                                "update clipping threshold d: the update's RMS is capped at d (> 0)"),
    AGLM_PARAM_FLOAT_SPEC("decay_rate", -0.8, -1.0, 0.0,
                          "exponent c of the second-moment decay schedule beta2_t = 1 - t^c"),
    AGLM_PARAM_FLOAT_RANGE_SPEC("beta1", 0.0, 0.0, 1.0, AGLM_OPEN_MAX,
                                "first-moment (momentum) coefficient in [0, 1); 0 disables it"),
    AGLM_PARAM_FLOAT_SPEC("weight_decay", 0.0, 0.0, INFINITY,
                          "decoupled weight decay, scaled by the step size (2+-dim params only)"),
    AGLM_PARAM_BOOL_SPEC("scale_parameter", 0,
                         "scale the step size by max(eps2, RMS of the parameter)"),
    AGLM_PARAM_BOOL_SPEC("relative_step", 0,
                         "use the paper's step size min(1e-2, 1/sqrt(t)) instead of the host lr"),
    AGLM_PARAM_BOOL_SPEC("warmup_init", 0,
                         "with relative_step: step size min(1e-6 t, 1/sqrt(t))"),
};

/** One instance: hyper-parameters and a plugin-owned scratch buffer. */
typedef struct adafactor {
    double eps1, eps2, clip_threshold, decay_rate, beta1, weight_decay;
    int scale_parameter, relative_step, warmup_init;
    void *scratch;
    size_t scratch_bytes;
} adafactor;

/** Shared by the passes of one step; each worker writes only its own rows/elements. */
typedef struct adafactor_job {
    float *p;
    const float *g;
    float *v;            /* exp_avg_sq (unfactored) */
    float *row, *col;    /* exp_avg_sq_row [B*R], exp_avg_sq_col [B*C] (factored) */
    float *m;            /* exp_avg, or NULL */
    float *u;            /* scratch: the unscaled update [n] */
    const float *rf;     /* scratch: rsqrt(row / mean(row)) [B*R] */
    const float *cf;     /* scratch: rsqrt(col) [B*C] */
    int64_t R, C;
    float eps1, beta2t, one_minus_beta2t;
    float scale;         /* alpha / max(1, RMS(U) / d) */
    float beta1, one_minus_beta1;
    float decay_factor;  /* 1 - weight_decay * alpha, exactly 1 when no decay applies */
} adafactor_job;

/** Sum of p^2 over [begin, end), for RMS(X). */
static void adafactor_sum_p2(void *user, int64_t begin, int64_t end, double *sums) {
    const adafactor_job *job = (const adafactor_job *)user;
    const float *AGLM_RESTRICT p = job->p;
    double s = 0.0;
    int64_t i;
    for (i = begin; i < end; ++i) s += (double)p[i] * (double)p[i];
    sums[0] = s;
}

/** Unfactored: V update, U = G * rsqrt(V), sum of U^2 over elements [begin, end). */
static void adafactor_unfactored(void *user, int64_t begin, int64_t end, double *sums) {
    const adafactor_job *job = (const adafactor_job *)user;
    const float *AGLM_RESTRICT g = job->g + begin;
    float *AGLM_RESTRICT v = job->v + begin;
    float *AGLM_RESTRICT u = job->u + begin;
    const float eps1 = job->eps1, b2 = job->beta2t, omb2 = job->one_minus_beta2t;
    const int64_t n = end - begin;
    double s = 0.0;
    int64_t i;
    for (i = 0; i < n; ++i) {
        const float q = g[i] * g[i] + eps1;
        const float vi = v[i] * b2 + omb2 * q;  /* v.mul_(beta2t).add_(q, alpha=1-beta2t) */
        const float ui = (1.0f / AGLM_SQRTF(vi)) * g[i];
        v[i] = vi;
        u[i] = ui;
        s += (double)ui * (double)ui;
    }
    sums[0] = s;
}

/** Factored, rows [begin, end) of the [B*R, C] view: the row averages. */
static void adafactor_rows(void *user, int64_t begin, int64_t end) {
    const adafactor_job *job = (const adafactor_job *)user;
    const int64_t C = job->C;
    const float eps1 = job->eps1, b2 = job->beta2t, omb2 = job->one_minus_beta2t;
    int64_t r, c;
    for (r = begin; r < end; ++r) {
        const float *AGLM_RESTRICT g = job->g + r * C;
        double s = 0.0;
        for (c = 0; c < C; ++c) s += (double)(g[c] * g[c] + eps1);
        job->row[r] = job->row[r] * b2 + omb2 * (float)(s / (double)C);
    }
}

/** Factored, rows [begin, end): U = G * rf[row] * cf[b, c] and the sum of U^2. */
static void adafactor_factored_update(void *user, int64_t begin, int64_t end, double *sums) {
    const adafactor_job *job = (const adafactor_job *)user;
    const int64_t R = job->R, C = job->C;
    double s = 0.0;
    int64_t r, c;
    for (r = begin; r < end; ++r) {
        const float *AGLM_RESTRICT g = job->g + r * C;
        const float *AGLM_RESTRICT cf = job->cf + (r / R) * C;
        float *AGLM_RESTRICT u = job->u + r * C;
        const float rf = job->rf[r];
        for (c = 0; c < C; ++c) {
            const float ui = (rf * cf[c]) * g[c];  /* torch.mul(r_factor, c_factor).mul_(grad) */
            u[c] = ui;
            s += (double)ui * (double)ui;
        }
    }
    sums[0] = s;
}

/** Elements [begin, end): scale U, first moment, weight decay, X <- X - U. */
static void adafactor_apply(void *user, int64_t begin, int64_t end) {
    const adafactor_job *job = (const adafactor_job *)user;
    float *AGLM_RESTRICT p = job->p + begin;
    const float *AGLM_RESTRICT u = job->u + begin;
    float *AGLM_RESTRICT m = job->m != NULL ? job->m + begin : NULL;
    const float scale = job->scale, b1 = job->beta1, omb1 = job->one_minus_beta1;
    const float decay = job->decay_factor;
    const int64_t n = end - begin;
    int64_t i;
    for (i = 0; i < n; ++i) {
        float step = u[i] * scale;
        if (m != NULL) {
            step = m[i] * b1 + omb1 * step;  /* exp_avg.mul_(beta1).add_(u, alpha=1-beta1) */
            m[i] = step;
        }
        p[i] = p[i] * decay - step;
    }
}

/** create: reads the hyper-parameters and refuses meaningless combinations. */
static aglm_status adafactor_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                    void *layout, void **instance) {
    adafactor a, *self;
    (void)info;
    (void)layout;
    memset(&a, 0, sizeof a);
    a.eps1 = aglm_param_f64(host, params, "eps1");
    a.eps2 = aglm_param_f64(host, params, "eps2");
    a.clip_threshold = aglm_param_f64(host, params, "clip_threshold");
    a.decay_rate = aglm_param_f64(host, params, "decay_rate");
    a.beta1 = aglm_param_f64(host, params, "beta1");
    a.weight_decay = aglm_param_f64(host, params, "weight_decay");
    a.scale_parameter = aglm_param_bool(host, params, "scale_parameter");
    a.relative_step = aglm_param_bool(host, params, "relative_step");
    a.warmup_init = aglm_param_bool(host, params, "warmup_init");
    if (a.warmup_init && !a.relative_step)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "warmup_init requires relative_step = true");
    self = (adafactor *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    *self = a;
    if (a.relative_step)
        aglm_logf(host, ctx, AGLM_LOG_INFO,
                  "relative_step is on: the step size is min(%s, 1/sqrt(t)) and the host's lr is "
                  "ignored",
                  a.warmup_init ? "1e-6 t" : "1e-2");
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the scratch buffer and the instance. */
static void adafactor_destroy(void *instance) {
    adafactor *self = (adafactor *)instance;
    free(self->scratch);
    free(self);
}

/** declare_state: exp_avg (beta1 > 0), then row/column factors (2+ dims) or exp_avg_sq. */
static aglm_status adafactor_declare_state(void *instance, aglm_ctx *ctx,
                                           const aglm_param_info *param, aglm_state_decl *decls,
                                           size_t capacity, size_t *count) {
    const adafactor *self = (const adafactor *)instance;
    size_t n = 0, needed = (self->beta1 > 0.0 ? 1u : 0u) + (param->ndim >= 2 ? 2u : 1u);
    aglm_status st;
    int32_t i;
    if (capacity < needed)
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL,
                           "needs %lu state buffers, the host offers %lu", (unsigned long)needed,
                           (unsigned long)capacity);
    if (self->beta1 > 0.0 && (st = aglm_state_like(host, ctx, &decls[n++], "exp_avg", param)))
        return st;
    if (param->ndim < 2) {
        if ((st = aglm_state_like(host, ctx, &decls[n++], "exp_avg_sq", param))) return st;
    } else {
        /* row factor: shape[:-1]; column factor: shape[:-2] + shape[-1:] */
        if ((st = aglm_state_like(host, ctx, &decls[n], "exp_avg_sq_row", param))) return st;
        decls[n].ndim = param->ndim - 1;
        decls[n].shape[param->ndim - 1] = 0;
        ++n;
        if ((st = aglm_state_like(host, ctx, &decls[n], "exp_avg_sq_col", param))) return st;
        decls[n].ndim = param->ndim - 1;
        for (i = 0; i < param->ndim; ++i) decls[n].shape[i] = 0;
        for (i = 0; i < param->ndim - 2; ++i) decls[n].shape[i] = param->shape[i];
        decls[n].shape[param->ndim - 2] = param->shape[param->ndim - 1];
        ++n;
    }
    *count = n;
    return AGLM_OK;
}

/** step: one Adafactor update of one parameter. */
static aglm_status adafactor_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *args) {
    adafactor *self = (adafactor *)instance;
    const aglm_param_info *param = args->param;
    const int64_t n = param->numel;
    const int factored = param->ndim >= 2;
    const int has_m = self->beta1 > 0.0;
    const size_t first_v = has_m ? 1 : 0;
    const double t = (double)args->step;
    int64_t R = 1, C = 1, B = 1, state_numels[3];
    double sum, rho, alpha, rms_u;
    size_t bytes;
    unsigned char *scratch;
    double *colacc = NULL;
    float *rf = NULL, *cf = NULL;
    adafactor_job job;
    aglm_status st;

    if (factored) {
        R = param->shape[param->ndim - 2];
        C = param->shape[param->ndim - 1];
        B = R * C > 0 ? n / (R * C) : 0;
    }
    if (has_m) state_numels[0] = n;
    if (factored) {
        state_numels[first_v] = B * R;
        state_numels[first_v + 1] = B * C;
    } else {
        state_numels[first_v] = n;
    }
    if ((st = aglm_optim_check_step(host, ctx, args, first_v + (factored ? 2 : 1), state_numels)))
        return st;
    if (n == 0) return AGLM_OK;

    /* scratch layout: colacc [C] doubles | u [n] | rf [B*R] | cf [B*C] floats */
    bytes = (size_t)C * sizeof(double) + (size_t)(n + B * R + B * C) * sizeof(float);
    scratch = (unsigned char *)aglm_optim_scratch(host, ctx, &self->scratch, &self->scratch_bytes,
                                                  bytes);
    if (scratch == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    memset(&job, 0, sizeof job);
    colacc = (double *)scratch;
    job.u = (float *)(scratch + (size_t)C * sizeof(double));
    rf = job.u + n;
    cf = rf + B * R;
    job.p = (float *)args->value->data;
    job.g = (const float *)args->grad->data;
    job.m = has_m ? (float *)args->states[0]->data : NULL;
    job.R = R;
    job.C = C;
    job.eps1 = (float)self->eps1;
    job.beta2t = (float)(1.0 - pow(t, self->decay_rate));
    job.one_minus_beta2t = (float)pow(t, self->decay_rate);             /* 1 - beta2_t */
    job.beta1 = (float)self->beta1;
    job.one_minus_beta1 = (float)(1.0 - self->beta1);

    /* step size alpha (RMS(X) before the update) */
    rho = args->lr;
    if (self->relative_step) {
        const double min_step = self->warmup_init ? 1e-6 * t : 1e-2;
        rho = fmin(min_step, 1.0 / sqrt(t));
    }
    alpha = rho;
    if (self->scale_parameter) {
        if ((st = aglm_optim_reduce(host, ctx, n, AGLM_OPTIM_CHUNK, 1, adafactor_sum_p2, &job,
                                    &sum)))
            return st;
        alpha = fmax(self->eps2, sqrt(sum / (double)n)) * rho;
    }

    /* second moments and the unscaled update U, with sum(U^2) */
    if (!factored) {
        job.v = (float *)args->states[first_v]->data;
        if ((st = aglm_optim_reduce(host, ctx, n, AGLM_OPTIM_CHUNK, 1, adafactor_unfactored, &job,
                                    &sum)))
            return st;
    } else {
        const int64_t rows_per_block = C >= AGLM_OPTIM_CHUNK ? 1 : AGLM_OPTIM_CHUNK / C;
        int64_t b, r, c;
        job.row = (float *)args->states[first_v]->data;
        job.col = (float *)args->states[first_v + 1]->data;
        host->parallel_for(B * R, rows_per_block, adafactor_rows, &job);
        for (b = 0; b < B; ++b) {
            const float *gb = job.g + b * R * C;
            float *colb = job.col + b * C;
            const float *rowb = job.row + b * R;
            double row_mean = 0.0;
            for (c = 0; c < C; ++c) colacc[c] = 0.0;
            for (r = 0; r < R; ++r) {
                const float *g = gb + r * C;
                for (c = 0; c < C; ++c) colacc[c] += (double)(g[c] * g[c] + job.eps1);
            }
            for (c = 0; c < C; ++c) {
                colb[c] = colb[c] * job.beta2t + job.one_minus_beta2t * (float)(colacc[c] / (double)R);
                cf[b * C + c] = 1.0f / AGLM_SQRTF(colb[c]);          /* col.rsqrt()          */
            }
            for (r = 0; r < R; ++r) row_mean += (double)rowb[r];
            row_mean /= (double)R;
            for (r = 0; r < R; ++r)                                  /* (row / mean).rsqrt() */
                rf[b * R + r] = 1.0f / AGLM_SQRTF(rowb[r] / (float)row_mean);
        }
        job.rf = rf;
        job.cf = cf;
        if ((st = aglm_optim_reduce(host, ctx, B * R, rows_per_block, 1, adafactor_factored_update,
                                    &job, &sum)))
            return st;
    }

    /* clipping, step size, first moment, weight decay, update */
    rms_u = sqrt(sum / (double)n);
    if (!isfinite(rms_u))
        return aglm_errorf(host, ctx, AGLM_ERR_NUMERIC, "%s: the update is not finite (RMS %g)",
                           param->name, rms_u);
    job.scale = (float)(alpha / fmax(1.0, rms_u / self->clip_threshold));
    job.decay_factor = (float)(1.0 - aglm_optim_weight_decay(args, self->weight_decay) * alpha);
    host->parallel_for(n, AGLM_OPTIM_CHUNK, adafactor_apply, &job);
    return AGLM_OK;
}

/** The optimizer vtable (static: the host keeps the pointer). */
static const aglm_optimizer_vtable adafactor_vtable = {
    sizeof(aglm_optimizer_vtable), adafactor_declare_state, NULL, adafactor_step,
};

/** init: registers the "adafactor" optimizer. */
static aglm_status adafactor_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_OPTIMIZER, "adafactor",
                       "Adafactor: factored second moments, update clipping (Shazeer & Stern 2018)",
                       "1.0.0", AGLM_SCHEMA(adafactor_params), adafactor_create, adafactor_destroy,
                       &adafactor_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-adafactor", "1.0.0", adafactor_init);
