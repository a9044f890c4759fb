/*
 * linear — causal linear attention with the elu + 1 feature map (Katharopoulos, Vyas, Pappas &
 * Fleuret 2020, "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention",
 * ICML 2020, arXiv:2006.16236, sections 3.2-3.3):
 *
 *     phi(x) = elu(x) + 1          (x + 1 for x > 0, exp(x) otherwise; always > 0)
 *     S_t    = sum_{j <= t} phi(k_j) v_j^T          [head_dim, head_dim]
 *     z_t    = sum_{j <= t} phi(k_j)                [head_dim]
 *     out_t  = phi(q_t)^T S_t / (phi(q_t) . z_t + eps)
 *
 * per batch element and head. This equals the "attention" out_t = sum_{j<=t} A_tj v_j /
 * (sum_{j<=t} A_tj + eps) with A_tj = phi(q_t) . phi(k_j), computed as an RNN over t: no
 * [seq x seq] matrix exists, compute is O(seq head_dim^2) and the extra memory is one
 * head_dim x head_dim state (plus seq normalisers in the backward) per (batch, head) pair being
 * processed, for at most 64 pairs at a time. There is no softmax and no 1/sqrt(d) scale (the
 * paper's formulation).
 *
 * Fused (path (b)): fused_forward runs the recurrence above on raw views; fused_backward is its
 * analytic gradient (the paper's section 3.3.1, with the normaliser), again in O(seq head_dim^2)
 * without a [seq x seq] matrix and without anything saved from the forward (saved is NULL):
 *
 *     den_t   = phi(q_t) . z_t + eps,  g_t = d out_t
 *     dnum_t  = g_t / den_t,           dden_t = -(g_t . out_t) / den_t
 *     dphi(q_t) = S_t dnum_t + z_t dden_t                        (forward sweep over t)
 *     R_j     = sum_{t >= j} phi(q_t) dnum_t^T,  r_j = sum_{t >= j} phi(q_t) dden_t
 *     dphi(k_j) = R_j v_j + r_j,   dv_j = R_j^T phi(k_j)          (backward sweep over j)
 *     dq = dphi(q) * phi'(q), dk = dphi(k) * phi'(k),  phi'(x) = 1 for x > 0, exp(x) otherwise
 *
 * Running sums are kept in double, so long sequences do not lose precision; work is split over
 * (batch, head) pairs with host->parallel_for. It uses as many key/value heads as query heads.
 * v may have its own feature size (the output then has it too).
 *
 * Parameters:
 *   eps  float, default 1e-6, in [0, 1]: added to the normaliser phi(q_t) . z_t (the reference
 *        implementation's 1e-6). phi > 0 keeps the normaliser positive even at 0 unless
 *        exp underflows (inputs below about -87), so keep a small positive value.
 */
#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec linear_params[] = {
    AGLM_PARAM_FLOAT_SPEC("eps", 1e-6, 0.0, 1.0,
                          "added to the normaliser phi(q_t).z_t (keeps it away from 0)"),
};

/** One instance (one per transformer block). */
typedef struct linear_attn {
    double eps;
} linear_attn;

/** Most work groups (and scratch blocks) one call splits the (batch, head) pairs into. */
#define LINEAR_MAX_GROUPS 64

/** Everything a parallel_for worker needs (read-only for the workers, except the outputs and
 *  each group's own scratch block). */
typedef struct linear_job {
    const float *q, *k, *v;  /* [B, H, T, D], [B, H, T, D], [B, H, T, E] */
    const float *out, *dout; /* backward only: forward output and its gradient [B, H, T, E] */
    float *y;                /* forward: the output [B, H, T, E] */
    float *dq, *dk, *dv;     /* backward: the gradients */
    int64_t pairs, groups;   /* B * H (batch, head) pairs, split into `groups` groups */
    int64_t t, d, e;         /* sequence, q/k features, v features */
    double eps;
    double *scratch;         /* groups * per_group doubles */
    size_t per_group;
} linear_job;

/** phi(x) = elu(x) + 1. */
static double linear_phi(double x) { return x > 0.0 ? x + 1.0 : exp(x); }

/** phi'(x) given x and phi(x): 1 for x > 0, exp(x) = phi(x) otherwise. */
static double linear_dphi(double x, double phi) { return x > 0.0 ? 1.0 : phi; }

/** First (batch, head) pair of group g. */
static int64_t linear_group_start(const linear_job *job, int64_t g) {
    return g * job->pairs / job->groups;
}

/** Forward of one (batch, head) pair: the recurrence of the file comment. Scratch: S [d e],
 *  z [d], phq [d], phk [d], num [e]. */
static void linear_forward_pair(const linear_job *job, int64_t pair, double *scratch) {
    const int64_t T = job->t, D = job->d, E = job->e;
    const float *q = job->q + pair * T * D, *k = job->k + pair * T * D, *v = job->v + pair * T * E;
    float *y = job->y + pair * T * E;
    double *AGLM_RESTRICT S = scratch;
    double *AGLM_RESTRICT z = S + D * E;
    double *AGLM_RESTRICT phq = z + D;
    double *AGLM_RESTRICT phk = phq + D;
    double *AGLM_RESTRICT num = phk + D;
    int64_t t, a, c;
    for (a = 0; a < D * E; ++a) S[a] = 0.0;
    for (a = 0; a < D; ++a) z[a] = 0.0;
    for (t = 0; t < T; ++t) {
        const float *qt = q + t * D, *kt = k + t * D, *vt = v + t * E;
        double den = job->eps, inv;
        for (a = 0; a < D; ++a) {
            phq[a] = linear_phi((double)qt[a]);
            phk[a] = linear_phi((double)kt[a]);
        }
        for (a = 0; a < D; ++a) { /* S += phi(k_t) v_t^T, z += phi(k_t) */
            double *Sa = S + a * E;
            const double pk = phk[a];
            for (c = 0; c < E; ++c) Sa[c] += pk * (double)vt[c];
            z[a] += pk;
        }
        for (c = 0; c < E; ++c) num[c] = 0.0;
        for (a = 0; a < D; ++a) { /* num = phi(q_t)^T S_t, den = phi(q_t) . z_t + eps */
            const double *Sa = S + a * E;
            const double pq = phq[a];
            for (c = 0; c < E; ++c) num[c] += pq * Sa[c];
            den += pq * z[a];
        }
        inv = 1.0 / den;
        for (c = 0; c < E; ++c) y[t * E + c] = (float)(num[c] * inv);
    }
}

/** Backward of one (batch, head) pair: the two sweeps of the file comment. Scratch: S/R [d e],
 *  z/r [d], phq [d], phk [d], dnum [e], den [T]. */
static void linear_backward_pair(const linear_job *job, int64_t pair, double *scratch) {
    const int64_t T = job->t, D = job->d, E = job->e;
    const float *q = job->q + pair * T * D, *k = job->k + pair * T * D, *v = job->v + pair * T * E;
    const float *o = job->out + pair * T * E, *g = job->dout + pair * T * E;
    float *dq = job->dq + pair * T * D, *dk = job->dk + pair * T * D, *dv = job->dv + pair * T * E;
    double *AGLM_RESTRICT S = scratch; /* S_t in the forward sweep, R_j in the backward sweep */
    double *AGLM_RESTRICT z = S + D * E; /* z_t, then r_j */
    double *AGLM_RESTRICT phq = z + D;
    double *AGLM_RESTRICT phk = phq + D;
    double *AGLM_RESTRICT dnum = phk + D;
    double *AGLM_RESTRICT den = dnum + E;
    int64_t t, a, c;

    /* Forward sweep: S_t, z_t, den_t, and dq_t = (S_t dnum_t + z_t dden_t) * phi'(q_t). */
    for (a = 0; a < D * E; ++a) S[a] = 0.0;
    for (a = 0; a < D; ++a) z[a] = 0.0;
    for (t = 0; t < T; ++t) {
        const float *qt = q + t * D, *kt = k + t * D, *vt = v + t * E;
        const float *ot = o + t * E, *gt = g + t * E;
        double dn = job->eps, go = 0.0, inv, dden;
        for (a = 0; a < D; ++a) {
            phq[a] = linear_phi((double)qt[a]);
            phk[a] = linear_phi((double)kt[a]);
        }
        for (a = 0; a < D; ++a) {
            double *Sa = S + a * E;
            const double pk = phk[a];
            for (c = 0; c < E; ++c) Sa[c] += pk * (double)vt[c];
            z[a] += pk;
            dn += phq[a] * z[a];
        }
        den[t] = dn;
        inv = 1.0 / dn;
        for (c = 0; c < E; ++c) {
            go += (double)gt[c] * (double)ot[c];
            dnum[c] = (double)gt[c] * inv;
        }
        dden = -go * inv;
        for (a = 0; a < D; ++a) {
            const double *Sa = S + a * E;
            double acc = z[a] * dden;
            for (c = 0; c < E; ++c) acc += Sa[c] * dnum[c];
            dq[t * D + a] = (float)(acc * linear_dphi((double)qt[a], phq[a]));
        }
    }

    /* Backward sweep: R_j = sum_{t>=j} phi(q_t) dnum_t^T, r_j = sum_{t>=j} phi(q_t) dden_t. */
    for (a = 0; a < D * E; ++a) S[a] = 0.0;
    for (a = 0; a < D; ++a) z[a] = 0.0;
    for (t = T - 1; t >= 0; --t) {
        const float *qt = q + t * D, *kt = k + t * D, *vt = v + t * E;
        const float *ot = o + t * E, *gt = g + t * E;
        const double inv = 1.0 / den[t];
        double go = 0.0, dden;
        for (c = 0; c < E; ++c) {
            go += (double)gt[c] * (double)ot[c];
            dnum[c] = (double)gt[c] * inv;
        }
        dden = -go * inv;
        for (a = 0; a < D; ++a) {
            phq[a] = linear_phi((double)qt[a]);
            phk[a] = linear_phi((double)kt[a]);
        }
        for (a = 0; a < D; ++a) { /* R += phi(q_t) dnum_t^T, r += phi(q_t) dden_t */
            double *Ra = S + a * E;
            const double pq = phq[a];
            for (c = 0; c < E; ++c) Ra[c] += pq * dnum[c];
            z[a] += pq * dden;
        }
        for (a = 0; a < D; ++a) { /* dphi(k_t) = R_t v_t + r_t */
            const double *Ra = S + a * E;
            double acc = z[a];
            for (c = 0; c < E; ++c) acc += Ra[c] * (double)vt[c];
            dk[t * D + a] = (float)(acc * linear_dphi((double)kt[a], phk[a]));
        }
        for (c = 0; c < E; ++c) dnum[c] = 0.0; /* reused: dv_t = R_t^T phi(k_t) */
        for (a = 0; a < D; ++a) {
            const double *Ra = S + a * E;
            const double pk = phk[a];
            for (c = 0; c < E; ++c) dnum[c] += pk * Ra[c];
        }
        for (c = 0; c < E; ++c) dv[t * E + c] = (float)dnum[c];
    }
}

/** parallel_for body of the forward: groups [begin, end), each with its own scratch block. */
static void linear_forward_groups(void *user, int64_t begin, int64_t end) {
    const linear_job *job = (const linear_job *)user;
    int64_t gr, p;
    for (gr = begin; gr < end; ++gr)
        for (p = linear_group_start(job, gr); p < linear_group_start(job, gr + 1); ++p)
            linear_forward_pair(job, p, job->scratch + (size_t)gr * job->per_group);
}

/** parallel_for body of the backward. */
static void linear_backward_groups(void *user, int64_t begin, int64_t end) {
    const linear_job *job = (const linear_job *)user;
    int64_t gr, p;
    for (gr = begin; gr < end; ++gr)
        for (p = linear_group_start(job, gr); p < linear_group_start(job, gr + 1); ++p)
            linear_backward_pair(job, p, job->scratch + (size_t)gr * job->per_group);
}

/** Checks q [B, H, T, D], k [B, H, T, D], v [B, H, T, E] (dense float32) and `others`, which
 *  must have the shape of `like` (q or v), and fills the sizes of `job`. */
static aglm_status linear_check(aglm_ctx *ctx, linear_job *job, const aglm_view *q,
                                const aglm_view *k, const aglm_view *v, const aglm_view *const *others,
                                const aglm_view *const *like, const char *const *names, int count) {
    aglm_status st;
    int i, dim;
    if ((st = aglm_check_view(host, ctx, q, "q", AGLM_DTYPE_FLOAT, 4)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, k, "k", AGLM_DTYPE_FLOAT, 4)) != AGLM_OK ||
        (st = aglm_check_view(host, ctx, v, "v", AGLM_DTYPE_FLOAT, 4)) != AGLM_OK)
        return st;
    for (dim = 0; dim < 3; ++dim)
        if (k->shape[dim] != q->shape[dim] || v->shape[dim] != q->shape[dim])
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "q [%lld, %lld, %lld, %lld], k [%lld, %lld, %lld, %lld] and v [%lld, "
                               "%lld, %lld, %lld] must agree in batch, heads and seq",
                               (long long)q->shape[0], (long long)q->shape[1], (long long)q->shape[2],
                               (long long)q->shape[3], (long long)k->shape[0], (long long)k->shape[1],
                               (long long)k->shape[2], (long long)k->shape[3], (long long)v->shape[0],
                               (long long)v->shape[1], (long long)v->shape[2], (long long)v->shape[3]);
    if (k->shape[3] != q->shape[3])
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "q and k must have the same head_dim, got %lld and %lld",
                           (long long)q->shape[3], (long long)k->shape[3]);
    for (i = 0; i < count; ++i) {
        if ((st = aglm_check_view(host, ctx, others[i], names[i], AGLM_DTYPE_FLOAT, 4)) != AGLM_OK)
            return st;
        for (dim = 0; dim < 4; ++dim)
            if (others[i]->shape[dim] != like[i]->shape[dim])
                return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                   "%s has extent %lld in dimension %d, expected %lld", names[i],
                                   (long long)others[i]->shape[dim], dim,
                                   (long long)like[i]->shape[dim]);
    }
    job->pairs = q->shape[0] * q->shape[1];
    job->t = q->shape[2];
    job->d = q->shape[3];
    job->e = v->shape[3];
    return AGLM_OK;
}

/** Splits the pairs into groups and allocates one scratch block of `per_group` doubles each
 *  (plugin-owned: the caller frees job->scratch). */
static aglm_status linear_scratch(aglm_ctx *ctx, linear_job *job, size_t per_group) {
    job->groups = job->pairs < LINEAR_MAX_GROUPS ? job->pairs : LINEAR_MAX_GROUPS;
    job->per_group = per_group;
    job->scratch = NULL;
    if (job->groups == 0) return AGLM_OK;
    job->scratch = (double *)aglm_calloc(host, ctx, (size_t)job->groups * per_group * sizeof(double));
    return job->scratch != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

/** fused_forward: out = causal linear attention of q, k, v. Nothing is saved: the backward
 *  recomputes the running sums from q, k, v and uses the output it is handed. */
static aglm_status linear_fused_forward(void *instance, aglm_ctx *ctx, const aglm_view *q,
                                        const aglm_view *k, const aglm_view *v, aglm_view *out,
                                        int32_t needs_backward, aglm_saved *saved) {
    const linear_attn *self = (const linear_attn *)instance;
    const aglm_view *others[1];
    const aglm_view *like[1];
    static const char *const names[1] = {"out"};
    linear_job job;
    aglm_status st;
    (void)needs_backward; /* nothing to save either way */
    if (saved != NULL) *saved = NULL;
    others[0] = out;
    like[0] = v;
    if ((st = linear_check(ctx, &job, q, k, v, others, like, names, 1)) != AGLM_OK) return st;
    if ((st = linear_scratch(ctx, &job, (size_t)(job.d * job.e + 3 * job.d + job.e))) != AGLM_OK)
        return st;
    job.q = (const float *)q->data;
    job.k = (const float *)k->data;
    job.v = (const float *)v->data;
    job.y = (float *)out->data;
    job.out = job.dout = NULL;
    job.dq = job.dk = job.dv = NULL;
    job.eps = self->eps;
    if (job.groups > 0) host->parallel_for(job.groups, 1, linear_forward_groups, &job);
    free(job.scratch);
    return AGLM_OK;
}

/** fused_backward: overwrites dq, dk, dv with the gradients of sum(out * dout). */
static aglm_status linear_fused_backward(void *instance, aglm_ctx *ctx, aglm_saved saved,
                                         const aglm_view *q, const aglm_view *k,
                                         const aglm_view *v, const aglm_view *out,
                                         const aglm_view *dout, aglm_view *dq, aglm_view *dk,
                                         aglm_view *dv) {
    const linear_attn *self = (const linear_attn *)instance;
    const aglm_view *others[5];
    const aglm_view *like[5];
    static const char *const names[5] = {"out", "dout", "dq", "dk", "dv"};
    linear_job job;
    aglm_status st;
    (void)saved; /* always NULL */
    others[0] = out;
    others[1] = dout;
    others[2] = dq;
    others[3] = dk;
    others[4] = dv;
    like[0] = v;
    like[1] = v;
    like[2] = q;
    like[3] = k;
    like[4] = v;
    if ((st = linear_check(ctx, &job, q, k, v, others, like, names, 5)) != AGLM_OK) return st;
    if ((st = linear_scratch(ctx, &job, (size_t)(job.d * job.e + 3 * job.d + job.e + job.t))) !=
        AGLM_OK)
        return st;
    job.q = (const float *)q->data;
    job.k = (const float *)k->data;
    job.v = (const float *)v->data;
    job.out = (const float *)out->data;
    job.dout = (const float *)dout->data;
    job.y = NULL;
    job.dq = (float *)dq->data;
    job.dk = (float *)dk->data;
    job.dv = (float *)dv->data;
    job.eps = self->eps;
    if (job.groups > 0) host->parallel_for(job.groups, 1, linear_backward_groups, &job);
    free(job.scratch);
    return AGLM_OK;
}

/** create: reads eps; keeps kv_heads = n_head. */
static aglm_status linear_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                 void *layout, void **instance) {
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    const double eps = aglm_param_f64(host, params, "eps");
    linear_attn *self;
    (void)layout; /* keep the default: kv_heads = n_head */
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim) || ai->head_dim < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "missing or invalid attention info (head_dim)");
    if (!(eps >= 0.0))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "eps must be >= 0, got %g", eps);
    self = (linear_attn *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->eps = eps;
    *instance = self;
    return AGLM_OK;
}

/** destroy: frees the instance. */
static void linear_destroy(void *instance) { free(instance); }

/** The attention vtable (static: the host keeps the pointer). Path (b): fused forward and
 *  backward; nothing is ever saved, so free_saved is not needed. */
static const aglm_attention_vtable linear_vtable = {
    sizeof(aglm_attention_vtable), NULL, linear_fused_forward, linear_fused_backward, NULL,
    NULL, /* no decode: sampling recomputes the context */
};

/** init: registers the "linear" attention. */
static aglm_status linear_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_ATTENTION, "linear",
                       "causal linear attention, elu+1 feature map (Katharopoulos et al. 2020), fused O(seq)",
                       "1.0.0", AGLM_SCHEMA(linear_params), linear_create, linear_destroy,
                       &linear_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-linear", "1.0.0", linear_init);
