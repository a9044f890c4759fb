/*
 * plugins/common/aglm_optim_util.h — code shared by the bundled optimizers (sgd, adam, rmsprop,
 * adagrad, lion, lamb, adafactor, muon), included as `#include "../common/aglm_optim_util.h"`.
 *
 * Header-only: everything is `static inline`, so a plugin including it still exports exactly
 * `aglm_plugin_entry_v1`. Built on include/autoglm/helpers.h; the same threading rules apply
 * (a helper taking a ctx only during the call that received it, on its thread).
 *
 * Contents:
 *   AGLM_OPTIM_BETAS_SPEC    schema of a pair of decay rates, each in [0, 1) (exclusive bound)
 *   AGLM_OPTIM_EPS_SPEC      schema of an epsilon > 0 (exclusive bound)
 *   aglm_optim_betas         reads such a pair
 *   aglm_optim_declare_like  declares state buffers shaped like the parameter
 *   aglm_optim_adam_*        the instance, create and declare_state shared by adam and adamw
 *   aglm_optim_check_step    validates an aglm_optim_step (views, sizes, state count, step >= 1)
 *   aglm_optim_weight_decay  a step's weight decay coefficient for a parameter (decay flag, ABI
 *                            1.4 per-step multiplier)
 *   aglm_optim_lerp_*        torch's lerp (the two-branch CPU formula), for moving averages
 *   aglm_optim_sign          sign(x) in {-1, 0, 1}, branch-free so loops vectorise
 *   aglm_optim_reduce        deterministic blocked sums over [0, n) on the host's threads
 *   aglm_optim_scratch       a growable plugin-owned scratch buffer
 */
#ifndef AGLM_OPTIM_UTIL_H
#define AGLM_OPTIM_UTIL_H

#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** Elements per parallel_for chunk of an elementwise update (below twice this, one thread). An
 *  Adam-style update costs a few ns per element, so 8192 elements (tens of µs) already pay for
 *  a parallel region (about 2 µs): the 128-wide models' 16k-64k-element matrices then use both
 *  cores instead of one. */
#define AGLM_OPTIM_CHUNK ((int64_t)1 << 13)

/** Declares a pair of decay rates, each in [0, 1) (the schema's exclusive upper bound, ABI
 *  1.2: the host refuses 1 before create runs), as a FLOAT_LIST of exactly 2 items. */
#define AGLM_OPTIM_BETAS_SPEC(name, defaults, doc) \
    AGLM_PARAM_FLOAT_LIST_RANGE_SPEC(name, defaults, 2, 0.0, 1.0, AGLM_OPEN_MAX, doc)

/** Declares an epsilon: a FLOAT > 0 (the schema's exclusive lower bound, ABI 1.2). */
#define AGLM_OPTIM_EPS_SPEC(name, def, doc) \
    AGLM_PARAM_FLOAT_RANGE_SPEC(name, def, 0.0, INFINITY, AGLM_OPEN_MIN, doc)

/** Reads a pair declared with AGLM_OPTIM_BETAS_SPEC into out[0..1] (the host has checked its
 *  length and range). */
static inline void aglm_optim_betas(const aglm_host_api *host, const aglm_params *params,
                                    const char *name, double out[2]) {
    out[0] = out[1] = 0.0;
    aglm_param_list(host, params, name, out, 2);
}

/** The hyper-parameters the Adam family (adam, adamw, lamb) shares. */
typedef struct aglm_optim_adam_params {
    double beta1, beta2, eps, weight_decay;
} aglm_optim_adam_params;

/** Reads "betas", "eps" and "weight_decay" into *out; their schemas (AGLM_OPTIM_BETAS_SPEC,
 *  AGLM_OPTIM_EPS_SPEC, >= 0) bound them, so there is nothing left to check. */
static inline void aglm_optim_adam_read(const aglm_host_api *host, const aglm_params *params,
                                        aglm_optim_adam_params *out) {
    double betas[2];
    aglm_optim_betas(host, params, "betas", betas);
    out->beta1 = betas[0];
    out->beta2 = betas[1];
    out->eps = aglm_param_f64(host, params, "eps");
    out->weight_decay = aglm_param_f64(host, params, "weight_decay");
}

/** Declares `n` float32 buffers named `names[0..n)`, each shaped like `param`, and stores n in
 *  *count (for declare_state). */
static inline aglm_status aglm_optim_declare_like(const aglm_host_api *host, aglm_ctx *ctx,
                                                  const aglm_param_info *param,
                                                  aglm_state_decl *decls, size_t capacity,
                                                  const char *const *names, size_t n,
                                                  size_t *count) {
    size_t i;
    if (capacity < n)
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL,
                           "needs %lu state buffers, the host offers %lu", (unsigned long)n,
                           (unsigned long)capacity);
    for (i = 0; i < n; ++i) {
        aglm_status st = aglm_state_like(host, ctx, &decls[i], names[i], param);
        if (st != AGLM_OK) return st;
    }
    *count = n;
    return AGLM_OK;
}

/** An Adam-family optimizer instance (adam, adamw): its hyper-parameters and the AMSGrad switch
 *  (the moment buffers are host-owned). */
typedef struct aglm_optim_adam {
    aglm_optim_adam_params hp; /**< betas, eps, weight_decay */
    int amsgrad;               /**< 1: keep max_exp_avg_sq and divide by its square root */
} aglm_optim_adam;

/** create of an Adam-family optimizer: reads the hyper-parameters (aglm_optim_adam_read) and
 *  "amsgrad" into a new aglm_optim_adam in *instance (the destroy callback frees it). */
static inline aglm_status aglm_optim_adam_create(const aglm_host_api *host, aglm_ctx *ctx,
                                                 const aglm_params *params, void **instance) {
    aglm_optim_adam_params hp;
    aglm_optim_adam *self;
    aglm_optim_adam_read(host, params, &hp);
    self = (aglm_optim_adam *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->hp = hp;
    self->amsgrad = aglm_param_bool(host, params, "amsgrad");
    *instance = self;
    return AGLM_OK;
}

/** State buffers of an Adam-family optimizer: 3 with AMSGrad, else 2. */
static inline size_t aglm_optim_adam_states(const aglm_optim_adam *self) {
    return self->amsgrad ? 3 : 2;
}

/** declare_state of an Adam-family optimizer: "exp_avg", "exp_avg_sq" (and "max_exp_avg_sq"
 *  with AMSGrad), each shaped like the parameter. */
static inline aglm_status aglm_optim_adam_declare_state(const aglm_host_api *host, aglm_ctx *ctx,
                                                        const aglm_optim_adam *self,
                                                        const aglm_param_info *param,
                                                        aglm_state_decl *decls, size_t capacity,
                                                        size_t *count) {
    static const char *const names[3] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return aglm_optim_declare_like(host, ctx, param, decls, capacity, names,
                                   aglm_optim_adam_states(self), count);
}

/** Validates one step's arguments: value and gradient dense float32 views of param->numel
 *  elements, exactly `states` state buffers, each dense float32 with `state_numels[i]` elements
 *  (state_numels NULL: each has param->numel), and a 1-based step counter. */
static inline aglm_status aglm_optim_check_step(const aglm_host_api *host, aglm_ctx *ctx,
                                                const aglm_optim_step *args, size_t states,
                                                const int64_t *state_numels) {
    const aglm_param_info *param = args->param;
    const char *name = param != NULL && param->name != NULL ? param->name : "parameter";
    const int64_t n = param != NULL ? param->numel : -1;
    aglm_status st;
    size_t i;
    if (param == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "no parameter description");
    if ((st = aglm_check_view(host, ctx, args->value, name, AGLM_DTYPE_FLOAT, -1)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, args->grad, "gradient", AGLM_DTYPE_FLOAT, -1)) != AGLM_OK)
        return st;
    if (aglm_view_numel(args->value) != n || aglm_view_numel(args->grad) != n)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "%s: parameter has %lld elements, its value %lld and gradient %lld",
                           name, (long long)n, (long long)aglm_view_numel(args->value),
                           (long long)aglm_view_numel(args->grad));
    if (args->state_count != states)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "%s: expected %lu state buffers, got %lu",
                           name, (unsigned long)states, (unsigned long)args->state_count);
    for (i = 0; i < states; ++i) {
        const int64_t want = state_numels != NULL ? state_numels[i] : n;
        if ((st = aglm_check_view(host, ctx, args->states[i], "state buffer", AGLM_DTYPE_FLOAT,
                                  -1)) != AGLM_OK)
            return st;
        if (aglm_view_numel(args->states[i]) != want)
            return aglm_errorf(host, ctx, AGLM_ERR_STATE,
                               "%s: state buffer %lu has %lld elements, expected %lld", name,
                               (unsigned long)i, (long long)aglm_view_numel(args->states[i]),
                               (long long)want);
    }
    if (args->step < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "step counter must start at 1, got %lld",
                           (long long)args->step);
    return AGLM_OK;
}

/** The weight decay coefficient of this step for `args->param` (validated by
 *  aglm_optim_check_step): 0 when the parameter's decay flag is not 1, otherwise `weight_decay`
 *  times the host's per-step multiplier (ABI 1.4 `weight_decay_scale`, the value of
 *  `train.weight_decay_schedule`; an older host does not pass it, which means 1). The product
 *  is exact when the multiplier is 1, so an unscheduled run is unchanged bit for bit. */
static inline double aglm_optim_weight_decay(const aglm_optim_step *args, double weight_decay) {
    if (args->param->decay != 1) return 0.0;
    return AGLM_HAS_FIELD(args, aglm_optim_step, weight_decay_scale)
               ? weight_decay * args->weight_decay_scale
               : weight_decay;
}

/** torch's CPU lerp(start, end, w): start + w·(end − start) when |w| < 0.5, else
 *  end − (end − start)·(1 − w). Precompute once per step with aglm_optim_lerp_weight. */
typedef struct aglm_optim_lerp {
    float coeff;     /**< w, or w − 1 (= −(1 − w) exactly) on the second branch */
    int from_start;  /**< 1 on the first branch */
} aglm_optim_lerp;

/** The lerp coefficients of weight `w` (a double, rounded to float as torch does). */
static inline aglm_optim_lerp aglm_optim_lerp_weight(double w) {
    aglm_optim_lerp l;
    const float wf = (float)w;
    l.from_start = fabsf(wf) < 0.5f;
    l.coeff = l.from_start ? wf : wf - 1.0f;
    return l;
}

/** lerp(start, end, w) with coefficients from aglm_optim_lerp_weight. */
static inline float aglm_optim_lerp_apply(aglm_optim_lerp l, float start, float end) {
    return (l.from_start ? start : end) + l.coeff * (end - start);
}

/** sign(x): 1, -1 or 0 (also 0 for NaN), without branches. */
static inline float aglm_optim_sign(float x) { return (float)(x > 0.0f) - (float)(x < 0.0f); }

/** Computes `nsums` partial sums over items [begin, end) into sums[0..nsums) (pre-zeroed); may
 *  also update the items. Runs on host worker threads: thread-safe, no ctx. */
typedef void (*aglm_optim_sum_fn)(void *user, int64_t begin, int64_t end, double *sums);

/** Internal: the job aglm_optim_reduce hands to parallel_for. */
typedef struct aglm_optim_reduce_job {
    aglm_optim_sum_fn fn;
    void *user;
    int64_t n, block;
    int nsums;
    double *partials;
} aglm_optim_reduce_job;

/** Internal: runs the blocks [begin, end) of an aglm_optim_reduce. */
static inline void aglm_optim_reduce_blocks(void *user, int64_t begin, int64_t end) {
    const aglm_optim_reduce_job *job = (const aglm_optim_reduce_job *)user;
    int64_t b;
    for (b = begin; b < end; ++b) {
        const int64_t lo = b * job->block;
        const int64_t hi = lo + job->block < job->n ? lo + job->block : job->n;
        double *sums = job->partials + b * job->nsums;
        int k;
        for (k = 0; k < job->nsums; ++k) sums[k] = 0.0;
        job->fn(job->user, lo, hi, sums);
    }
}

/** Runs `fn` over [0, n) in fixed blocks of `block` items, spread over the host's threads, and
 *  adds each block's `nsums` (1..8) sums in block order into out[0..nsums): the result is the
 *  same whatever the number of threads. */
static inline aglm_status aglm_optim_reduce(const aglm_host_api *host, aglm_ctx *ctx, int64_t n,
                                            int64_t block, int nsums, aglm_optim_sum_fn fn,
                                            void *user, double *out) {
    aglm_optim_reduce_job job;
    int64_t blocks, b;
    int k;
    for (k = 0; k < nsums; ++k) out[k] = 0.0;
    if (n <= 0) return AGLM_OK;
    if (block < 1) block = 1;
    blocks = (n + block - 1) / block;
    job.fn = fn;
    job.user = user;
    job.n = n;
    job.block = block;
    job.nsums = nsums;
    job.partials = (double *)malloc((size_t)blocks * (size_t)nsums * sizeof(double));
    if (job.partials == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY,
                           "out of memory (partial sums of %lld blocks)", (long long)blocks);
    host->parallel_for(blocks, 1, aglm_optim_reduce_blocks, &job);
    for (b = 0; b < blocks; ++b)
        for (k = 0; k < nsums; ++k) out[k] += job.partials[b * nsums + k];
    free(job.partials);
    return AGLM_OK;
}

/** Makes *buffer (plugin-owned, malloc'd, freed by the caller with free()) hold at least `bytes`
 *  bytes, growing it when needed; *capacity tracks its size. Returns it, or NULL with an
 *  out-of-memory error set. The contents are not preserved when it grows. */
static inline void *aglm_optim_scratch(const aglm_host_api *host, aglm_ctx *ctx, void **buffer,
                                       size_t *capacity, size_t bytes) {
    if (*buffer != NULL && *capacity >= bytes) return *buffer;
    free(*buffer);
    *capacity = 0;
    *buffer = malloc(bytes != 0 ? bytes : 1);
    if (*buffer == NULL) {
        aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory (scratch of %lu bytes)",
                    (unsigned long)bytes);
        return NULL;
    }
    *capacity = bytes;
    return *buffer;
}

#endif /* AGLM_OPTIM_UTIL_H */
