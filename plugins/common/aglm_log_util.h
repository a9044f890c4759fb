/*
 * plugins/common/aglm_log_util.h — the output file shared by the bundled logging callbacks
 * (csv_log, jsonl_log, tensorboard), included as `#include "../common/aglm_log_util.h"`.
 *
 * Header-only (`static inline`), built on include/autoglm/helpers.h; the same threading rules
 * apply (a helper taking a ctx only during the call that received it, on its thread).
 *
 * Life of an aglm_log_file: aglm_log_init in create (copies the `file` and `every` parameters),
 * aglm_log_resolve when the run directory is known (TRAIN_BEGIN), aglm_log_open, writes,
 * aglm_log_close at TRAIN_END (or from destroy after an abnormal end), aglm_log_free in destroy.
 * A plugin that names its file itself (tensorboard) fills `file` and `every` instead of calling
 * aglm_log_init and opens the file itself; the rest is the same. Under mpirun only rank 0 writes
 * (aglm_log_writes), like the host's own run files.
 */
#ifndef AGLM_LOG_UTIL_H
#define AGLM_LOG_UTIL_H

#include <autoglm/helpers.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Whether this process writes the run's log files: 1, except on the ranks other than 0 of a
 *  data-parallel run (ABI 1.3's aglm_trainer_state.rank; an older host has one process), which
 *  would otherwise append to rank 0's file (a shared run directory) or make one on their own
 *  machine. A logging callback ignores every event where it returns 0. */
static inline int aglm_log_writes(const aglm_trainer_state *state) {
    return !AGLM_HAS_FIELD(state, aglm_trainer_state, rank) || state->rank == 0;
}

/** A logging callback's output file. */
typedef struct aglm_log_file {
    char *file;    /**< the file name, not empty (plugin-owned copy of the `file` parameter, or a
                        name the plugin made, e.g. tensorboard's events.out.tfevents.*) */
    int64_t every; /**< the `every` parameter (>= 1) */
    char *path;    /**< `file` resolved against the run directory (after aglm_log_resolve) */
    FILE *out;     /**< the open stream, between aglm_log_open and aglm_log_close (else NULL) */
} aglm_log_file;

/** Copies the STRING parameter "file" (must not be empty) and the INT parameter "every" (must be
 *  >= 1) into a zeroed *f; on failure sets the error, leaves nothing allocated and returns it. */
static inline aglm_status aglm_log_init(const aglm_host_api *host, aglm_ctx *ctx,
                                        const aglm_params *params, aglm_log_file *f) {
    memset(f, 0, sizeof *f);
    f->every = aglm_param_i64(host, params, "every");
    if (f->every < 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "every must be >= 1, got %lld",
                           (long long)f->every);
    f->file = aglm_strdup(host, ctx, aglm_param_str(host, params, "file"));
    if (f->file == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    if (f->file[0] == '\0') {
        free(f->file);
        f->file = NULL;
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "file must not be empty");
    }
    return AGLM_OK;
}

/** A new malloc'd path: `name` resolved against `dir` (an absolute name, or a NULL or empty
 *  dir, gives name as is; an empty name gives dir; otherwise dir/name). NULL, with the error
 *  set, when out of memory; the caller frees the result. */
static inline char *aglm_log_join(const aglm_host_api *host, aglm_ctx *ctx, const char *dir,
                                  const char *name) {
    const char *d = dir != NULL ? dir : "";
    const size_t dn = strlen(d), n = strlen(name);
    char *path = (char *)malloc(dn + n + 2);
    if (path == NULL) {
        aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    if (name[0] == '/' || dn == 0) {
        memcpy(path, name, n + 1);
    } else if (n == 0) {
        memcpy(path, d, dn + 1);
    } else {
        memcpy(path, d, dn);
        path[dn] = '/';
        memcpy(path + dn + 1, name, n + 1);
    }
    return path;
}

/** Sets f->path to f->file resolved against `run_dir` (see aglm_log_join). */
static inline aglm_status aglm_log_resolve(const aglm_host_api *host, aglm_ctx *ctx,
                                           aglm_log_file *f, const char *run_dir) {
    free(f->path);
    f->path = aglm_log_join(host, ctx, run_dir, f->file);
    return f->path != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

/** Opens f->path (resolved) for appending; a resumed run continues the file. */
static inline aglm_status aglm_log_open(const aglm_host_api *host, aglm_ctx *ctx,
                                        aglm_log_file *f) {
    f->out = fopen(f->path, "a");
    if (f->out == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot open '%s' for appending: %s",
                           f->path, strerror(errno));
    return AGLM_OK;
}

/** Flushes after a write and reports a failed one (disk full...); with a NULL `ctx` (from
 *  destroy) only the status says so. */
static inline aglm_status aglm_log_flush(const aglm_host_api *host, aglm_ctx *ctx,
                                         aglm_log_file *f) {
    if (fflush(f->out) != 0 || ferror(f->out))
        return ctx != NULL ? aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "writing to '%s' failed: %s",
                                         f->path, strerror(errno))
                           : AGLM_ERR_INTERNAL;
    return AGLM_OK;
}

/** Closes the stream if open; reports a failed final write unless `ctx` is NULL (from destroy,
 *  where nothing can be reported). */
static inline aglm_status aglm_log_close(const aglm_host_api *host, aglm_ctx *ctx,
                                         aglm_log_file *f) {
    int failed;
    if (f->out == NULL) return AGLM_OK;
    failed = fclose(f->out) != 0;
    f->out = NULL;
    if (failed && ctx != NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "closing '%s' failed: %s", f->path,
                           strerror(errno));
    return AGLM_OK;
}

/** Frees the copies (after aglm_log_close). */
static inline void aglm_log_free(aglm_log_file *f) {
    free(f->path);
    free(f->file);
    f->path = NULL;
    f->file = NULL;
}

#endif
