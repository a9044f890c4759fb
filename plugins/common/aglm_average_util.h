/*
 * plugins/common/aglm_average_util.h — a running average of the model's weights, shared by the
 * bundled `ema` and `swa` callbacks, included as `#include "../common/aglm_average_util.h"`.
 *
 * What torch.optim.swa_utils.AveragedModel does, on the host's parameters (ABI 1.2
 * model_param: views of the weights themselves, not copies):
 *
 *   update (at a step the callback chooses), for every parameter p, its average a:
 *     first update:  a = p                                      (AveragedModel copies)
 *     later:         a = a + w (p - a)                          float32, w from the callback:
 *                    ema: w = 1 - decay                         (get_ema_multi_avg_fn)
 *                    swa: w = 1 / (n + 1), n updates so far     (get_swa_multi_avg_fn)
 *
 *   evaluation: at AGLM_EVENT_EVALUATE_BEGIN the averaged weights are swapped into the model
 *   (element by element: the trained ones go into the average's buffer), and at
 *   AGLM_EVENT_EVALUATE swapped back, so the evaluation measures the averaged model and training
 *   continues, bit for bit, from the trained weights. Checkpoints are written after EVALUATE:
 *   they hold the trained weights in model.safetensors and the average in the callback's state.
 *
 * State (save_state / load_state), little-endian: magic (4 bytes, the callback's), u32 version
 * 1, u64 updates n, u64 parameter count, then per parameter its name (u64 length + bytes), u64
 * element count and the elements as float32 bits. Loaded before the model is known, it is
 * matched against the model's parameters (names and sizes) at the next event.
 *
 * Header-only (`static inline`); needs a 1.2 host.
 */
#ifndef AGLM_AVERAGE_UTIL_H
#define AGLM_AVERAGE_UTIL_H

#include "aglm_metric_util.h"

#include <stdlib.h>
#include <string.h>

/** Elements per parallel_for chunk of an average update or swap. */
#define AGLM_AVERAGE_CHUNK ((int64_t)1 << 14)

/** The averaged weights: one buffer per model parameter (plugin-owned). */
typedef struct aglm_average {
    int64_t count;   /**< parameters (0 until bound to the model or loaded) */
    char **names;    /**< their names */
    int64_t *numel;  /**< their element counts */
    float **values;  /**< the averages */
    int64_t updates; /**< updates so far (n) */
    int bound;       /**< 1 once matched against the model's parameters */
    int swapped;     /**< 1 while the averages are in the model (between EVALUATE_BEGIN and EVALUATE) */
} aglm_average;

/** Frees the buffers (the struct itself is the caller's). */
static inline void aglm_average_free(aglm_average *a) {
    int64_t i;
    for (i = 0; i < a->count; ++i) {
        if (a->names != NULL) free(a->names[i]);
        if (a->values != NULL) free(a->values[i]);
    }
    free(a->names);
    free(a->numel);
    free(a->values);
    memset(a, 0, sizeof *a);
}

/** Internal: room for `count` parameters (names and buffers NULL). 0 when out of memory. */
static inline int aglm_average_reserve(aglm_average *a, int64_t count) {
    a->count = count;
    a->names = (char **)calloc((size_t)(count > 0 ? count : 1), sizeof(char *));
    a->numel = (int64_t *)calloc((size_t)(count > 0 ? count : 1), sizeof(int64_t));
    a->values = (float **)calloc((size_t)(count > 0 ? count : 1), sizeof(float *));
    return a->names != NULL && a->numel != NULL && a->values != NULL;
}

/** Makes `a` describe the model's parameters: allocates the buffers on first use, or checks
 *  that a loaded state matches the model (same names and sizes, in order). Call at the start
 *  of every on_event. */
static inline aglm_status aglm_average_bind(const aglm_host_api *host, aglm_ctx *ctx,
                                            aglm_average *a, const char *who) {
    const int64_t count = host->model_param_count(ctx);
    int64_t i;
    if (a->bound) return AGLM_OK;
    if (count < 0) return AGLM_ERR_STATE; /* the host set the message */
    if (a->count != 0 && a->count != count)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "%s: the saved average has %lld parameters, the model %lld: it was "
                           "saved by another model",
                           who, (long long)a->count, (long long)count);
    if (a->count == 0) { /* nothing loaded (or an empty state): start afresh */
        const int64_t updates = a->updates;
        aglm_average_free(a);
        a->updates = count == 0 ? updates : 0;
        if (!aglm_average_reserve(a, count)) {
            aglm_average_free(a);
            return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
        }
    }
    for (i = 0; i < count; ++i) {
        aglm_param_info info;
        aglm_status st;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if ((st = host->model_param(ctx, i, &info, NULL)) != AGLM_OK) return st;
        if (a->names[i] == NULL) { /* fresh: copy the name, allocate the buffer */
            a->names[i] = aglm_strdup(host, ctx, info.name);
            a->values[i] = (float *)malloc((size_t)(info.numel > 0 ? info.numel : 1) * sizeof(float));
            a->numel[i] = info.numel;
            if (a->names[i] == NULL || a->values[i] == NULL)
                return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY,
                                   "%s: out of memory (average of %s, %lld floats)", who, info.name,
                                   (long long)info.numel);
        } else if (strcmp(a->names[i], info.name) != 0 || a->numel[i] != info.numel) {
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "%s: the saved average's parameter %lld is %s (%lld elements), the "
                               "model's is %s (%lld): it was saved by another model",
                               who, (long long)i, a->names[i], (long long)a->numel[i], info.name,
                               (long long)info.numel);
        }
    }
    a->bound = 1;
    return AGLM_OK;
}

/** Internal: one chunk of an update (a = a + w (p - a)) or swap. */
typedef struct aglm_average_job {
    float *avg, *param;
    float w;
    int swap;
} aglm_average_job;

/** Internal: elements [begin, end) of an aglm_average_job. */
static inline void aglm_average_chunk(void *user, int64_t begin, int64_t end) {
    const aglm_average_job *job = (const aglm_average_job *)user;
    float *AGLM_RESTRICT a = job->avg;
    float *AGLM_RESTRICT p = job->param;
    const float w = job->w;
    int64_t i;
    if (job->swap) {
        for (i = begin; i < end; ++i) {
            const float t = a[i];
            a[i] = p[i];
            p[i] = t;
        }
    } else {
        for (i = begin; i < end; ++i) a[i] += w * (p[i] - a[i]);
    }
}

/** Internal: runs `job` (update or swap) over every parameter. */
static inline aglm_status aglm_average_apply(const aglm_host_api *host, aglm_ctx *ctx,
                                             aglm_average *a, float w, int swap) {
    int64_t i;
    for (i = 0; i < a->count; ++i) {
        aglm_view view;
        aglm_average_job job;
        aglm_status st;
        memset(&view, 0, sizeof view);
        view.struct_size = sizeof view;
        if ((st = host->model_param(ctx, i, NULL, &view)) != AGLM_OK) return st;
        if ((st = aglm_check_view(host, ctx, &view, a->names[i], AGLM_DTYPE_FLOAT, -1)) != AGLM_OK) return st;
        job.avg = a->values[i];
        job.param = (float *)view.data;
        job.w = w;
        job.swap = swap;
        host->parallel_for(a->numel[i], AGLM_AVERAGE_CHUNK, aglm_average_chunk, &job);
    }
    return AGLM_OK;
}

/** One update with weight `w` (ignored by the first update, which copies the weights). */
static inline aglm_status aglm_average_update(const aglm_host_api *host, aglm_ctx *ctx,
                                              aglm_average *a, double w) {
    aglm_status st;
    int64_t i;
    if (a->swapped)
        return aglm_errorf(host, ctx, AGLM_ERR_STATE, "average: update while the averaged weights are in the model");
    if (a->updates > 0) {
        st = aglm_average_apply(host, ctx, a, (float)w, 0);
    } else {
        for (i = 0; i < a->count; ++i) {
            aglm_view view;
            memset(&view, 0, sizeof view);
            view.struct_size = sizeof view;
            if ((st = host->model_param(ctx, i, NULL, &view)) != AGLM_OK) return st;
            memcpy(a->values[i], view.data, (size_t)a->numel[i] * sizeof(float));
        }
        st = AGLM_OK;
    }
    if (st == AGLM_OK) ++a->updates;
    return st;
}

/** Swaps the averages and the model's weights (at EVALUATE_BEGIN and back at EVALUATE);
 *  nothing before the first update. */
static inline aglm_status aglm_average_swap(const aglm_host_api *host, aglm_ctx *ctx,
                                            aglm_average *a) {
    aglm_status st;
    if (a->updates == 0) return AGLM_OK;
    if ((st = aglm_average_apply(host, ctx, a, 0.0f, 1)) != AGLM_OK) return st;
    a->swapped = !a->swapped;
    return AGLM_OK;
}

/** Writes the state (see the file comment), in blocks of 4096 elements. */
static inline aglm_status aglm_average_save(const aglm_host_api *host, aglm_ctx *ctx,
                                            const aglm_average *a, const char magic[4]) {
    unsigned char block[4 * 4096];
    aglm_status st;
    int64_t i, j;
    if ((st = aglm_state_put_header(host, ctx, magic, 1)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)a->updates)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)a->count)) != AGLM_OK)
        return st;
    for (i = 0; i < a->count; ++i) {
        if ((st = aglm_state_put_str(host, ctx, a->names[i])) != AGLM_OK ||
            (st = aglm_state_put_u64(host, ctx, (uint64_t)a->numel[i])) != AGLM_OK)
            return st;
        for (j = 0; j < a->numel[i]; j += 4096) {
            const int64_t n = a->numel[i] - j < 4096 ? a->numel[i] - j : 4096;
            int64_t e;
            for (e = 0; e < n; ++e) {
                uint32_t bits;
                int b;
                memcpy(&bits, &a->values[i][j + e], sizeof bits);
                for (b = 0; b < 4; ++b) block[4 * e + b] = (unsigned char)(bits >> (8 * b));
            }
            if ((st = host->write_state(ctx, block, (size_t)(4 * n))) != AGLM_OK) return st;
        }
    }
    return AGLM_OK;
}

/** Reads what aglm_average_save wrote into `a` (replacing it; matched against the model at the
 *  next aglm_average_bind). On failure `a` is left empty and an error is set. */
static inline aglm_status aglm_average_load(const aglm_host_api *host, aglm_ctx *ctx,
                                            aglm_average *a, const void *data, size_t size,
                                            const char magic[4], const char *who) {
    aglm_state_reader r;
    uint64_t updates, count, numel;
    aglm_status st;
    uint64_t i, e;
    r.data = (const unsigned char *)data;
    r.size = size;
    r.pos = 0;
    aglm_average_free(a);
    if ((st = aglm_state_get_header(host, ctx, &r, magic, 1, who)) != AGLM_OK) return st;
    if (!aglm_state_get_u64(&r, &updates) || !aglm_state_get_u64(&r, &count) || count > (uint64_t)1 << 20)
        goto corrupt;
    if (!aglm_average_reserve(a, (int64_t)count)) {
        aglm_average_free(a);
        return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    }
    for (i = 0; i < count; ++i) {
        if (!aglm_state_get_str(&r, &a->names[i]) || !aglm_state_get_u64(&r, &numel) ||
            numel > (r.size - r.pos) / 4)
            goto corrupt;
        a->numel[i] = (int64_t)numel;
        a->values[i] = (float *)malloc((size_t)(numel > 0 ? numel : 1) * sizeof(float));
        if (a->values[i] == NULL) {
            aglm_average_free(a);
            return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
        }
        for (e = 0; e < numel; ++e) {
            const unsigned char *b = r.data + r.pos + 4 * e;
            const uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                                  (uint32_t)b[3] << 24;
            memcpy(&a->values[i][e], &bits, sizeof bits);
        }
        r.pos += (size_t)(4 * numel);
    }
    if (r.pos != r.size) goto corrupt;
    a->updates = (int64_t)updates;
    return AGLM_OK;
corrupt:
    aglm_average_free(a);
    return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "truncated or corrupt %s state (%lu bytes)",
                       who, (unsigned long)size);
}

/** The events an averaging callback shares: binds the average to the model, swaps the
 *  averages in at EVALUATE_BEGIN (when `evaluate`) and back at EVALUATE, and puts the trained
 *  weights back at TRAIN_END should an evaluation have been cut short. Returns the status of
 *  the binding or swap; the caller then handles STEP_END (its update rule). */
static inline aglm_status aglm_average_on_event(const aglm_host_api *host, aglm_ctx *ctx,
                                                aglm_average *a, aglm_event event, int evaluate,
                                                const char *who) {
    aglm_status st = aglm_average_bind(host, ctx, a, who);
    if (st != AGLM_OK) return st;
    if (event == AGLM_EVENT_EVALUATE_BEGIN && evaluate && !a->swapped) return aglm_average_swap(host, ctx, a);
    if ((event == AGLM_EVENT_EVALUATE || event == AGLM_EVENT_TRAIN_END) && a->swapped)
        return aglm_average_swap(host, ctx, a);
    return AGLM_OK;
}

#endif /* AGLM_AVERAGE_UTIL_H */
