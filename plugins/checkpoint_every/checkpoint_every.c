/*
 * checkpoint_every — callback that requests a checkpoint every `every` optimizer steps and keeps
 * a copy of the best weights according to a monitored evaluation metric:
 *
 *   STEP_END:  if every > 0 and step % every == 0      -> control->save = 1
 *   EVALUATE:  if `monitor` improved on its best        -> remember (step, value) as pending,
 *              (v < best in mode "min", v > best in        control->save = 1 so that the
 *               mode "max"; NaN never improves)            checkpoint holds the evaluated weights
 *   SAVE:      if a best is pending for this step       -> copy <run_dir>/model.safetensors to
 *                                                          <run_dir>/best.safetensors and write
 *                                                          <run_dir>/best.json
 *
 * The host writes the checkpoint (model.safetensors and run.json in the run directory) right
 * after the EVALUATE event of the same step and then sends SAVE, so best.safetensors always holds
 * exactly the weights that scored the best value. Both files are written to a temporary name and
 * renamed into place, so a crash never leaves a half-written best. best.json is one JSON object:
 *
 *   {"step":40,"metric":"val/loss","value":1.2345,"mode":"min","weights":"best.safetensors"}
 *
 * If the SAVE event arrives at a later step than the pending best (another writer changed the
 * weights in between) the copy is skipped with a warning; if model.safetensors is missing, the
 * copy is skipped with a warning and retried at the next SAVE of the same step.
 *
 * Parameters:
 *   every     int in [0, 1000000000], default 100: request a checkpoint every N steps (0: only
 *             the checkpoints requested for a new best, and those of the host or other
 *             callbacks).
 *   monitor   string, default "val/loss": metric deciding which weights are best; "" disables
 *             the best copy.
 *   mode      choice "min" | "max", default "min": whether lower or higher values are better.
 *
 * Checkpoint state (save_state/load_state): the best value and step so far, so a resumed run
 * only replaces best.safetensors with better weights. Format (little-endian): magic "CKPE", u32
 * version 1, u64 tracking (0/1), then if tracking the monitor (u64 mode, f64 best, i64 step, u64
 * length + name). A checkpoint that monitored another metric or mode starts the best afresh.
 */
#include "../common/aglm_metric_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Accepted values of `mode`. */
static const char *const mode_choices[] = {"min", "max", NULL};

/** Parameter schema. */
static const aglm_param_spec ckpt_params[] = {
    AGLM_PARAM_INT_SPEC("every", 100, 0, 1000000000,
                        "request a checkpoint every N optimizer steps (0: no periodic checkpoints)"),
    AGLM_PARAM_STRING_SPEC("monitor", "val/loss",
                           "metric deciding the best weights (copied to best.safetensors); "
                           "empty to disable"),
    AGLM_PARAM_CHOICE_SPEC("mode", "min", mode_choices,
                           "min: lower values are better; max: higher values are better"),
};

/** Magic and version of the checkpointed state. */
static const char ckpt_magic[4] = {'C', 'K', 'P', 'E'};
#define CKPT_STATE_VERSION 1u

/** File names inside the run directory. */
#define CKPT_MODEL "model.safetensors"
#define CKPT_BEST "best.safetensors"
#define CKPT_BEST_JSON "best.json"

/** One instance. */
typedef struct checkpoint_every {
    int64_t every;
    int tracking;         /* 1 when `monitor` is set */
    aglm_monitor monitor; /* valid when tracking */
    int pending;          /* a new best awaits its copy at the SAVE of monitor.best_step */
} checkpoint_every;

/** destroy: frees the instance. */
static void ckpt_destroy(void *instance) {
    checkpoint_every *self = (checkpoint_every *)instance;
    if (self->tracking) aglm_monitor_free(&self->monitor);
    free(self);
}

/** create: copies the parameters. */
static aglm_status ckpt_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                               void *layout, void **instance) {
    checkpoint_every *self;
    const char *monitor;
    aglm_status st;
    (void)info;
    (void)layout;
    self = (checkpoint_every *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->every = aglm_param_i64(host, params, "every");
    if (self->every < 0) {
        free(self);
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "every must be >= 0");
    }
    monitor = aglm_param_str(host, params, "monitor");
    if (monitor[0] != '\0') {
        st = aglm_monitor_init(host, ctx, &self->monitor, monitor,
                               aglm_param_str(host, params, "mode"), 0.0);
        if (st != AGLM_OK) {
            free(self);
            return st;
        }
        self->tracking = 1;
    }
    *instance = self;
    return AGLM_OK;
}

/** `dir`/`name` in a new malloc'd string (NULL when out of memory); just `name` if dir is "". */
static char *join(const char *dir, const char *name) {
    size_t d = dir != NULL ? strlen(dir) : 0, n = strlen(name);
    char *path = (char *)malloc(d + n + 2);
    if (path == NULL) return NULL;
    if (d == 0) {
        memcpy(path, name, n + 1);
    } else {
        memcpy(path, dir, d);
        path[d] = '/';
        memcpy(path + d + 1, name, n + 1);
    }
    return path;
}

/** Copies file `from` to `to` through `to`.tmp and a rename. */
static aglm_status copy_file(aglm_ctx *ctx, const char *from, const char *to) {
    char buffer[1 << 16];
    size_t n, len = strlen(to);
    char *tmp = (char *)malloc(len + 5);
    FILE *in, *out;
    int failed = 0;
    if (tmp == NULL) return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(tmp, to, len);
    memcpy(tmp + len, ".tmp", 5);
    in = fopen(from, "rb");
    if (in == NULL) {
        free(tmp);
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot read '%s': %s", from,
                           strerror(errno));
    }
    out = fopen(tmp, "wb");
    if (out == NULL) {
        aglm_status st = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot create '%s': %s", tmp,
                                     strerror(errno));
        fclose(in);
        free(tmp);
        return st;
    }
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
        if (fwrite(buffer, 1, n, out) != n) {
            failed = 1;
            break;
        }
    failed |= ferror(in) != 0;
    fclose(in);
    failed |= fclose(out) != 0;
    if (failed || rename(tmp, to) != 0) {
        aglm_status st = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "copying '%s' to '%s' failed: %s",
                                     from, to, strerror(errno));
        remove(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return AGLM_OK;
}

/** Writes a JSON string literal (quotes, backslashes and control characters escaped). */
static void write_json_string(FILE *f, const char *s) {
    const unsigned char *c;
    fputc('"', f);
    for (c = (const unsigned char *)s; *c != '\0'; ++c) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", (unsigned)*c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/** Writes best.json (through a temporary file and a rename). */
static aglm_status write_best_json(const checkpoint_every *self, aglm_ctx *ctx, const char *path) {
    char number[40];
    size_t len = strlen(path);
    char *tmp = (char *)malloc(len + 5);
    FILE *f;
    int failed;
    if (tmp == NULL) return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    f = fopen(tmp, "w");
    if (f == NULL) {
        aglm_status st = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot create '%s': %s", tmp,
                                     strerror(errno));
        free(tmp);
        return st;
    }
    fprintf(f, "{\"step\":%" PRId64 ",\"metric\":", self->monitor.best_step);
    write_json_string(f, self->monitor.name);
    /* NaN never improves; an infinite best (only if an evaluator reported one) becomes null */
    aglm_format_double(number, sizeof number, self->monitor.best);
    fprintf(f, ",\"value\":%s,\"mode\":\"%s\",\"weights\":\"%s\"}\n",
            isfinite(self->monitor.best) ? number : "null", aglm_monitor_mode(&self->monitor),
            CKPT_BEST);
    failed = ferror(f) != 0;
    failed |= fclose(f) != 0;
    if (failed || rename(tmp, path) != 0) {
        aglm_status st = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "writing '%s' failed: %s", path,
                                     strerror(errno));
        remove(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return AGLM_OK;
}

/** At SAVE: copies the weights of a pending best and writes best.json. */
static aglm_status store_best(checkpoint_every *self, aglm_ctx *ctx,
                              const aglm_trainer_state *state) {
    char *model, *best, *json;
    FILE *probe;
    aglm_status st;
    if (state->step != self->monitor.best_step) {
        aglm_logf(host, ctx, AGLM_LOG_WARN,
                  "the best %s (step %" PRId64 ") was not checkpointed before step %" PRId64
                  ": best.safetensors not updated",
                  self->monitor.name, self->monitor.best_step, state->step);
        self->pending = 0;
        return AGLM_OK;
    }
    model = join(state->run_dir, CKPT_MODEL);
    best = join(state->run_dir, CKPT_BEST);
    json = join(state->run_dir, CKPT_BEST_JSON);
    if (model == NULL || best == NULL || json == NULL) {
        free(model);
        free(best);
        free(json);
        return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    probe = fopen(model, "rb");
    if (probe == NULL) {
        aglm_logf(host, ctx, AGLM_LOG_WARN, "no '%s' after the checkpoint (%s): best not copied yet",
                  model, strerror(errno));
        st = AGLM_OK;
    } else {
        fclose(probe);
        st = copy_file(ctx, model, best);
        if (st == AGLM_OK) st = write_best_json(self, ctx, json);
        if (st == AGLM_OK) {
            self->pending = 0;
            aglm_logf(host, ctx, AGLM_LOG_INFO, "new best %s = %g at step %" PRId64 ": saved %s",
                      self->monitor.name, self->monitor.best, self->monitor.best_step, best);
        }
    }
    free(model);
    free(best);
    free(json);
    return st;
}

/** on_event: the rules at the top of this file. */
static aglm_status ckpt_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                 const aglm_trainer_state *state, aglm_control *control) {
    checkpoint_every *self = (checkpoint_every *)instance;
    double value;
    int improved;
    aglm_status st;
    switch (event) {
    case AGLM_EVENT_STEP_END:
        if (self->every > 0 && state->step % self->every == 0) control->save = 1;
        return AGLM_OK;
    case AGLM_EVENT_EVALUATE:
        if (!self->tracking) return AGLM_OK;
        st = aglm_monitor_observe(host, ctx, &self->monitor, state, &value, &improved);
        if (st != AGLM_OK) return st;
        if (improved) {
            self->pending = 1;
            control->save = 1;
        }
        return AGLM_OK;
    case AGLM_EVENT_SAVE:
        if (!self->tracking || !self->pending) return AGLM_OK;
        return store_best(self, ctx, state);
    default: /* TRAIN_BEGIN, STEP_BEGIN, TRAIN_END and later events: nothing */
        return AGLM_OK;
    }
}

/** save_state: header, tracking flag and monitor. */
static aglm_status ckpt_save_state(void *instance, aglm_ctx *ctx) {
    const checkpoint_every *self = (const checkpoint_every *)instance;
    aglm_status st;
    if ((st = aglm_state_put_header(host, ctx, ckpt_magic, CKPT_STATE_VERSION)) != AGLM_OK ||
        (st = aglm_state_put_u64(host, ctx, (uint64_t)self->tracking)) != AGLM_OK)
        return st;
    return self->tracking ? aglm_monitor_save(host, ctx, &self->monitor) : AGLM_OK;
}

/** load_state: restores the best written by save_state (see the format at the top). */
static aglm_status ckpt_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    checkpoint_every *self = (checkpoint_every *)instance;
    aglm_state_reader r;
    uint64_t tracking;
    int same;
    aglm_status st;
    r.data = (const unsigned char *)data;
    r.size = size;
    r.pos = 0;
    if ((st = aglm_state_get_header(host, ctx, &r, ckpt_magic, CKPT_STATE_VERSION,
                                    "checkpoint_every")) != AGLM_OK)
        return st;
    if (!aglm_state_get_u64(&r, &tracking) || tracking > 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "truncated or corrupt checkpoint_every state (%lu bytes)",
                           (unsigned long)size);
    if (tracking && self->tracking) {
        aglm_monitor before = self->monitor;
        if ((st = aglm_monitor_load(host, ctx, &self->monitor, &r, &same)) != AGLM_OK) return st;
        if (r.pos != r.size) {
            self->monitor = before;
            return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                               "corrupt checkpoint_every state (%lu bytes)", (unsigned long)size);
        }
    } else if (tracking != (uint64_t)self->tracking) {
        aglm_logf(host, ctx, AGLM_LOG_WARN, "the checkpoint %s a best metric; this run %s",
                  tracking ? "tracked" : "did not track", self->tracking ? "does" : "does not");
    } else if (r.pos != r.size) {
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "corrupt checkpoint_every state (%lu bytes)", (unsigned long)size);
    }
    self->pending = 0;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable ckpt_vtable = {sizeof(aglm_callback_vtable), ckpt_on_event};

/** init: registers the "checkpoint_every" callback. */
static aglm_status ckpt_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "checkpoint_every",
                       "checkpoints every N steps and keeps the best weights in best.safetensors",
                       "1.0.0", AGLM_SCHEMA(ckpt_params), ckpt_create, ckpt_destroy, &ckpt_vtable);
    d.save_state = ckpt_save_state;
    d.load_state = ckpt_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-checkpoint-every", "1.0.0", ckpt_init);
