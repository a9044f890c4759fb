/*
 * plugins/common/aglm_decode_util.h — incremental decoding (ABI 1.2 `decode`) shared by the
 * bundled attentions (causal_dense, gqa, alibi, sliding_window, rope, flash), included as
 * `#include "../common/aglm_decode_util.h"`.
 *
 * One call handles n >= 1 new positions P .. P + n - 1 (P = args->position) of a sequence whose
 * earlier positions went through earlier calls:
 *
 *   1. rows P .. P + n - 1 of the caches get the new keys and values, the keys rotated to their
 *      positions first when `rope_base` > 0 (so the cache holds what the scores use);
 *   2. query row t (position p = P + t; rotated to p when `rope_base` > 0), of head h, reads kv
 *      head h / (n_head / kv_heads) and attends to the cached keys j in [lo, p], lo = 0, or
 *      p - window + 1 with a window (the query's own position included, as `sliding_window`
 *      and the host's causal_mask count it):
 *
 *        s_j = scale * q . k_j  -  slope_h * (p - j)        (the ALiBi term only with slopes)
 *        out = sum_j softmax(s)_j v_j                        (max-subtracted, float32)
 *
 * which is row p of the component's forward on the whole sequence 0 .. p. Rotation is the
 * rotate-half RoPE of host->rotary: pairs (i, i + D/2) turned by p * base^(-2i / D), the angle's
 * cosine and sine computed in double and rounded to float once.
 *
 * Header-only (`static inline`): a plugin including it still exports only its entry point.
 * Runs the (batch, head) rows on the host's workers (parallel_for_worker, per-worker scratch)
 * when there is enough work; no ctx is used on a worker. Needs a 1.2 host.
 */
#ifndef AGLM_DECODE_UTIL_H
#define AGLM_DECODE_UTIL_H

#include <autoglm/helpers.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/** What distinguishes one attention's decode from another's. */
typedef struct aglm_decode_opts {
    int64_t n_head, kv_heads, head_dim; /**< the instance's shape */
    double scale;                       /**< factor on q . k (> 0) */
    int64_t window;                     /**< keys per query, its own included; 0 = all */
    const double *slopes;               /**< NULL, or n_head ALiBi slopes */
    double rope_base;                   /**< > 0: rotate q and k (RoPE base); 0: no rotation */
} aglm_decode_opts;

/** Internal: the views of one call as plain pointers and row strides (all dense). */
typedef struct aglm_decode_job {
    const aglm_decode_opts *o;
    int64_t batch, n, capacity, position;
    const float *q, *k, *v;
    float *kc, *vc, *out;
    float *scratch; /* per worker: capacity scores and a rotated query row */
} aglm_decode_job;

/** Internal: checks that view `v` (named `what`) is a dense float32 [d0, d1, d2, d3] view. */
static inline aglm_status aglm_decode_check(const aglm_host_api *host, aglm_ctx *ctx,
                                            const aglm_view *v, const char *what, int64_t d0,
                                            int64_t d1, int64_t d2, int64_t d3) {
    aglm_status st = aglm_check_view(host, ctx, v, what, AGLM_DTYPE_FLOAT, 4);
    if (st != AGLM_OK) return st;
    if (v->shape[0] != d0 || v->shape[1] != d1 || v->shape[2] != d2 || v->shape[3] != d3)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "decode: %s: expected shape [%lld, %lld, %lld, %lld], got [%lld, %lld, %lld, %lld]",
                           what, (long long)d0, (long long)d1, (long long)d2, (long long)d3,
                           (long long)v->shape[0], (long long)v->shape[1], (long long)v->shape[2],
                           (long long)v->shape[3]);
    return AGLM_OK;
}

/** dst[0..D) = src rotated to position `p` (rotate-half RoPE with `base`); D even. */
static inline void aglm_decode_rotate(float *AGLM_RESTRICT dst, const float *AGLM_RESTRICT src,
                                      int64_t d, int64_t p, double base) {
    const int64_t half = d / 2;
    int64_t i;
    for (i = 0; i < half; ++i) {
        const double angle = (double)p * pow(base, -2.0 * (double)i / (double)(2 * half));
        const float c = (float)cos(angle), s = (float)sin(angle);
        const float x1 = src[i], x2 = src[i + half];
        dst[i] = x1 * c - x2 * s;
        dst[i + half] = x2 * c + x1 * s;
    }
}

/** Internal: the query rows of (batch, head) items [begin, end), on worker `worker`. */
static inline void aglm_decode_rows(void *user, int32_t worker, int64_t begin, int64_t end) {
    const aglm_decode_job *job = (const aglm_decode_job *)user;
    const aglm_decode_opts *o = job->o;
    const int64_t H = o->n_head, KV = o->kv_heads, D = o->head_dim, C = job->capacity;
    const int64_t group = H / KV;
    float *scores = job->scratch + (size_t)worker * (size_t)(C + D);
    float *qr = scores + C;
    int64_t item;
    for (item = begin; item < end; ++item) {
        const int64_t b = item / H, h = item % H, kvh = h / group;
        const float *kc = job->kc + (b * KV + kvh) * C * D;
        const float *vc = job->vc + (b * KV + kvh) * C * D;
        const double slope = o->slopes != NULL ? o->slopes[h] : 0.0;
        int64_t t;
        for (t = 0; t < job->n; ++t) {
            const int64_t p = job->position + t;
            const int64_t lo = o->window > 0 && p - o->window + 1 > 0 ? p - o->window + 1 : 0;
            const float *q = job->q + ((b * H + h) * job->n + t) * D;
            float *out = job->out + ((b * H + h) * job->n + t) * D;
            float mx = -INFINITY, total = 0.0f;
            int64_t j, d;
            if (o->rope_base > 0.0) {
                aglm_decode_rotate(qr, q, D, p, o->rope_base);
                q = qr;
            }
            for (j = lo; j <= p; ++j) {
                float s = 0.0f;
                for (d = 0; d < D; ++d) s += q[d] * kc[j * D + d];
                s = (float)(o->scale * (double)s);
                if (o->slopes != NULL) s += (float)(-slope * (double)(p - j));
                scores[j] = s;
                mx = s > mx ? s : mx;
            }
            for (j = lo; j <= p; ++j) {
                scores[j] = expf(scores[j] - mx);
                total += scores[j];
            }
            for (d = 0; d < D; ++d) out[d] = 0.0f;
            for (j = lo; j <= p; ++j) {
                const float w = scores[j] / total;
                for (d = 0; d < D; ++d) out[d] += w * vc[j * D + d];
            }
        }
    }
}

/** The decode entry of an attention described by `o`: checks the arguments, fills the cache
 *  rows of the new positions, and writes the outputs (see the file comment). */
static inline aglm_status aglm_decode(const aglm_host_api *host, aglm_ctx *ctx,
                                      const aglm_decode_args *a, const aglm_decode_opts *o) {
    const int64_t H = o->n_head, KV = o->kv_heads, D = o->head_dim;
    aglm_decode_job job;
    aglm_status st;
    int64_t B, n, C, r, t;
    if (!AGLM_HAS_FIELD(a, aglm_decode_args, out))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "decode: missing or short arguments");
    if ((st = aglm_check_view(host, ctx, a->q, "q", AGLM_DTYPE_FLOAT, 4)) != AGLM_OK) return st;
    if ((st = aglm_check_view(host, ctx, a->k_cache, "k_cache", AGLM_DTYPE_FLOAT, 4)) != AGLM_OK) return st;
    B = a->q->shape[0];
    n = a->q->shape[2];
    C = a->k_cache->shape[2];
    if ((st = aglm_decode_check(host, ctx, a->q, "q", B, H, n, D)) != AGLM_OK ||
        (st = aglm_decode_check(host, ctx, a->k, "k", B, KV, n, D)) != AGLM_OK ||
        (st = aglm_decode_check(host, ctx, a->v, "v", B, KV, n, D)) != AGLM_OK ||
        (st = aglm_decode_check(host, ctx, a->k_cache, "k_cache", B, KV, C, D)) != AGLM_OK ||
        (st = aglm_decode_check(host, ctx, a->v_cache, "v_cache", B, KV, C, D)) != AGLM_OK ||
        (st = aglm_decode_check(host, ctx, a->out, "out", B, H, n, D)) != AGLM_OK)
        return st;
    if (a->position < 0 || n < 1 || a->position + n > C)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "decode: positions %lld..%lld do not fit the cache of %lld",
                           (long long)a->position, (long long)(a->position + n - 1), (long long)C);
    if (o->rope_base > 0.0 && D % 2 != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "decode: rotary embedding needs an even head_dim, got %lld", (long long)D);
    job.o = o;
    job.batch = B;
    job.n = n;
    job.capacity = C;
    job.position = a->position;
    job.q = (const float *)a->q->data;
    job.k = (const float *)a->k->data;
    job.v = (const float *)a->v->data;
    job.kc = (float *)a->k_cache->data;
    job.vc = (float *)a->v_cache->data;
    job.out = (float *)a->out->data;
    for (r = 0; r < B * KV; ++r)
        for (t = 0; t < n; ++t) {
            const float *k = job.k + (r * n + t) * D, *v = job.v + (r * n + t) * D;
            float *kc = job.kc + (r * C + a->position + t) * D, *vc = job.vc + (r * C + a->position + t) * D;
            if (o->rope_base > 0.0)
                aglm_decode_rotate(kc, k, D, a->position + t, o->rope_base);
            else
                memcpy(kc, k, (size_t)D * sizeof(float));
            memcpy(vc, v, (size_t)D * sizeof(float));
        }
    /* one item = the n query rows of one (batch, head): about 4 (position + n) D flops per row;
     * threads pay off from a few hundred thousand flops per chunk. Scratch: one block per
     * worker (parallel_for_worker's index), allocated here, where errors can be reported. */
    {
        const double flops = 4.0 * (double)n * (double)(a->position + n) * (double)D;
        const int64_t min_chunk = flops > 0 ? (int64_t)ceil(4.0e5 / flops) : 1;
        const int32_t workers = host->worker_count();
        job.scratch = (float *)aglm_calloc(host, ctx, (size_t)(workers > 0 ? workers : 1) * (size_t)(C + D) * sizeof(float));
        if (job.scratch == NULL) return AGLM_ERR_OUT_OF_MEMORY;
        host->parallel_for_worker(B * H, min_chunk < 1 ? 1 : min_chunk, aglm_decode_rows, &job);
        free(job.scratch);
    }
    return AGLM_OK;
}

#endif /* AGLM_DECODE_UTIL_H */
