/*
 * tensorboard — callback that writes TensorBoard event files, so that a run can be watched live
 * with `tensorboard --logdir runs/`:
 *
 *   <run_dir>/<dir>/events.out.tfevents.<unix time>.<host name>
 *
 * Scalars (TensorBoard "simple_value" summaries, float32), tagged:
 *   train/loss, train/lr, train/grad_norm   at STEP_END, every `every` steps
 *   train/tokens_per_s                      same steps: tokens_seen / elapsed_seconds (left out
 *                                           while no time has elapsed)
 *   each evaluation metric, by its name     at EVALUATE (the host names them val/loss and
 *   (val/loss, val/perplexity, ...)         val/<evaluator metric>)
 * NaN and infinities are written as they are: TensorBoard shows them.
 *
 * Format (what TensorFlow's and TensorBoard's readers expect): a sequence of TFRecords,
 *
 *   u64 length | u32 masked CRC-32C of the 8 length bytes | data | u32 masked CRC-32C of data
 *
 * (little-endian; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8), each data a serialised
 * tensorflow.Event protocol buffer, of which this file writes five fields:
 *
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 *
 * The first record holds wall_time and file_version "brain.Event:2"; every later one wall_time
 * (Unix time in seconds), step and a summary. The encoding (varints, little-endian fixed-width
 * numbers, length-prefixed bytes) and CRC-32C are written out below rather than taken from a
 * library; ARCHITECTURE.md's dependency table says why.
 *
 * Files. A new file is created at TRAIN_BEGIN, also when a run resumes (TensorBoard reads every
 * event file of a directory); if the name is taken (two writers in the same second), ".1",
 * ".2", ... is appended. Missing directories are created. The file-version record is flushed at
 * once, so TensorBoard lists the run from its start; a step record is flushed once the training
 * clock (elapsed_seconds) has moved `flush_secs` past the last flush; EVALUATE and SAVE always
 * flush, TRAIN_END closes the file (so does destroy, after an abnormal end). A record that was
 * cut short by a crash is at the end of the file, where TensorBoard's reader stops.
 *
 * Parameters:
 *   dir          string, default "": directory of the event file; a relative path is resolved
 *                against the run directory (aglm_trainer_state.run_dir), "" is the run
 *                directory itself.
 *   every        int in [1, 1000000000], default 10: write the train/ scalars every N steps.
 *   flush_secs   float in [0, 86400], default 5 (TensorBoard reloads every 5 s): flush step
 *                records once this much training time has passed since the last flush; 0
 *                flushes every record.
 *
 * No checkpoint state: a resumed run writes a new file.
 */
#define _POSIX_C_SOURCE 200809L /* gethostname, mkdir, clock_gettime under -std=c99 */

#include "../common/aglm_log_util.h"
#include "../common/aglm_metric_util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec tb_params[] = {
    AGLM_PARAM_STRING_SPEC("dir", "",
                           "directory of the event file, relative to the run directory "
                           "(empty: the run directory)"),
    AGLM_PARAM_INT_SPEC("every", 10, 1, 1000000000, "write the train/ scalars every N steps"),
    AGLM_PARAM_FLOAT_SPEC("flush_secs", 5.0, 0.0, 86400.0,
                          "flush step records once this much training time has passed since the "
                          "last flush (0: every record); evaluations and saves always flush"),
};

/** file_version of the first record: the version TensorBoard's readers expect. */
#define TB_FILE_VERSION "brain.Event:2"

/* ----- CRC-32C and TFRecord framing -------------------------------------------------------- */

/** CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), bit by bit: a record is a hundred
 *  bytes or so every `every` steps, so a lookup table would buy nothing measurable. */
static uint32_t crc32c(const unsigned char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; ++i) {
        crc ^= p[i];
        for (k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/** TFRecord's masked CRC-32C of `n` bytes. */
static uint32_t masked_crc32c(const unsigned char *p, size_t n) {
    uint32_t crc = crc32c(p, n);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/** Stores the low `bytes` bytes of `v` little-endian. */
static void store_le(unsigned char *out, uint64_t v, int bytes) {
    int i;
    for (i = 0; i < bytes; ++i) out[i] = (unsigned char)(v >> (8 * i));
}

/** Appends one TFRecord holding `data` to `f`; 0 if a write failed (errno says why). */
static int write_record(FILE *f, const unsigned char *data, size_t n) {
    unsigned char header[12], footer[4];
    store_le(header, (uint64_t)n, 8);
    store_le(header + 8, masked_crc32c(header, 8), 4);
    store_le(footer, masked_crc32c(data, n), 4);
    return fwrite(header, 1, sizeof header, f) == sizeof header && fwrite(data, 1, n, f) == n &&
           fwrite(footer, 1, sizeof footer, f) == sizeof footer;
}

/* ----- protocol buffer encoding ------------------------------------------------------------ */

/** A growable byte buffer. After an allocation failure `failed` is set and writes are dropped. */
typedef struct tb_bytes {
    unsigned char *data;
    size_t size, capacity;
    int failed;
} tb_bytes;

/** Appends `n` bytes. */
static void put_bytes(tb_bytes *b, const void *p, size_t n) {
    if (b->failed || n == 0) return;
    if (b->size + n > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 256;
        unsigned char *grown;
        while (cap < b->size + n) cap *= 2;
        grown = (unsigned char *)realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = cap;
    }
    memcpy(b->data + b->size, p, n);
    b->size += n;
}

/** Appends a base-128 varint (7 bits a byte, low group first, high bit = more follow). */
static void put_varint(tb_bytes *b, uint64_t v) {
    unsigned char buf[10];
    size_t n = 0;
    do {
        buf[n++] = (unsigned char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    put_bytes(b, buf, n);
}

/** Appends a field key: its number and wire type (0 varint, 1 fixed64, 2 length-delimited,
 *  5 fixed32). */
static void put_key(tb_bytes *b, unsigned field, unsigned wire_type) {
    put_varint(b, (uint64_t)field << 3 | wire_type);
}

/** Appends a `double` field (fixed64, little-endian IEEE 754). */
static void put_double_field(tb_bytes *b, unsigned field, double x) {
    unsigned char buf[8];
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    store_le(buf, bits, 8);
    put_key(b, field, 1);
    put_bytes(b, buf, sizeof buf);
}

/** Appends a `float` field (fixed32, little-endian IEEE 754). */
static void put_float_field(tb_bytes *b, unsigned field, float x) {
    unsigned char buf[4];
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    store_le(buf, bits, 4);
    put_key(b, field, 5);
    put_bytes(b, buf, sizeof buf);
}

/** Appends an `int64` field (varint of the two's complement). */
static void put_int64_field(tb_bytes *b, unsigned field, int64_t v) {
    put_key(b, field, 0);
    put_varint(b, (uint64_t)v);
}

/** Appends a length-delimited field (string, bytes or embedded message). */
static void put_bytes_field(tb_bytes *b, unsigned field, const void *p, size_t n) {
    put_key(b, field, 2);
    put_varint(b, (uint64_t)n);
    put_bytes(b, p, n);
}

/** Frees a buffer and clears it (also clears `failed`). */
static void bytes_free(tb_bytes *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ----- the instance ------------------------------------------------------------------------ */

/** One instance. */
typedef struct tensorboard {
    aglm_log_file log;     /* event file name, `every`, path and stream (aglm_log_util.h) */
    char *dir;             /* the `dir` parameter (plugin-owned copy) */
    double flush_secs;     /* the `flush_secs` parameter */
    double last_flush;     /* elapsed_seconds at the last flush */
    tb_bytes value;        /* Summary.Value being encoded */
    tb_bytes summary;      /* Summary of the next event: the values added since the last one */
    tb_bytes event;        /* Event being encoded */
} tensorboard;

/** Adds the scalar `tag` = `x` to the summary of the next event. */
static void add_scalar(tensorboard *self, const char *tag, double x) {
    self->value.size = 0;
    put_bytes_field(&self->value, 1, tag, strlen(tag));
    put_float_field(&self->value, 2, (float)x);
    if (self->value.failed) self->summary.failed = 1;
    put_bytes_field(&self->summary, 1, self->value.data, self->value.size);
}

/** Current Unix time in seconds. */
static double wall_time(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (double)time(NULL);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/** Encodes an Event (wall time now; the step if `has_step`; `file_version` unless NULL; the
 *  pending summary, if any, which it consumes), appends it as a record and flushes when `flush`
 *  is set or `flush_secs` of training time (`elapsed`) have passed since the last flush. */
static aglm_status write_event(tensorboard *self, aglm_ctx *ctx, int has_step, int64_t step,
                               const char *file_version, int flush, double elapsed) {
    tb_bytes *e = &self->event;
    e->size = 0;
    put_double_field(e, 1, wall_time());
    if (has_step) put_int64_field(e, 2, step);
    if (file_version != NULL) put_bytes_field(e, 3, file_version, strlen(file_version));
    if (self->summary.size > 0) put_bytes_field(e, 5, self->summary.data, self->summary.size);
    if (e->failed || self->summary.failed) {
        bytes_free(&self->value);
        bytes_free(&self->summary);
        bytes_free(e);
        return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory encoding an event");
    }
    self->summary.size = 0;
    if (!write_record(self->log.out, e->data, e->size))
        return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "writing to '%s' failed: %s",
                           self->log.path, strerror(errno));
    if (flush || elapsed - self->last_flush >= self->flush_secs) {
        self->last_flush = elapsed;
        return aglm_log_flush(host, ctx, &self->log);
    }
    return AGLM_OK;
}

/* ----- file handling ----------------------------------------------------------------------- */

/** Creates directory `path` and its missing parents, like `mkdir -p`; an error names the
 *  directory that could not be made. */
static aglm_status make_directories(aglm_ctx *ctx, const char *path) {
    const size_t n = strlen(path);
    aglm_status status = AGLM_OK;
    struct stat info;
    size_t i;
    char *p;
    if (n == 0) return AGLM_OK;
    p = aglm_strdup(host, ctx, path);
    if (p == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    for (i = 1; i <= n && status == AGLM_OK; ++i) {
        const char end = p[i];
        if (end != '/' && end != '\0') continue;
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            status = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot create the directory '%s': %s",
                                 p, strerror(errno));
        else if (stat(p, &info) != 0 || !S_ISDIR(info.st_mode))
            status = aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                 "'%s' is not a directory, so '%s' cannot be created: choose "
                                 "another dir",
                                 p, path);
        p[i] = end;
    }
    free(p);
    return status;
}

/** Creates a new event file in the `dir` directory and writes its file-version record, unless
 *  one is open already. */
static aglm_status open_file(tensorboard *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    char host_name[256], name[512];
    const long long now = (long long)time(NULL);
    aglm_status st;
    char *dir;
    int attempt;
    if (self->log.out != NULL) return AGLM_OK;
    if ((dir = aglm_log_join(host, ctx, state->run_dir, self->dir)) == NULL)
        return AGLM_ERR_OUT_OF_MEMORY;
    if ((st = make_directories(ctx, dir)) != AGLM_OK) {
        free(dir);
        return st;
    }
    if (gethostname(host_name, sizeof host_name) != 0 || host_name[0] == '\0')
        snprintf(host_name, sizeof host_name, "localhost");
    host_name[sizeof host_name - 1] = '\0';
    for (attempt = 0; self->log.out == NULL; ++attempt) {
        int used = snprintf(name, sizeof name, "events.out.tfevents.%lld.%s", now, host_name);
        if (attempt > 0 && used > 0 && (size_t)used < sizeof name)
            snprintf(name + used, sizeof name - (size_t)used, ".%d", attempt);
        free(self->log.file);
        if ((self->log.file = aglm_strdup(host, ctx, name)) == NULL) {
            st = AGLM_ERR_OUT_OF_MEMORY;
            break;
        }
        if ((st = aglm_log_resolve(host, ctx, &self->log, dir)) != AGLM_OK) break;
        self->log.out = fopen(self->log.path, "wbx"); /* x: never overwrite another run's file */
        if (self->log.out == NULL && (errno != EEXIST || attempt == 1000)) {
            st = aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot create '%s': %s",
                             self->log.path, strerror(errno));
            break;
        }
    }
    free(dir);
    if (st != AGLM_OK) return st;
    aglm_logf(host, ctx, AGLM_LOG_INFO, "writing TensorBoard events to %s", self->log.path);
    self->last_flush = state->elapsed_seconds;
    return write_event(self, ctx, 0, 0, TB_FILE_VERSION, 1, state->elapsed_seconds);
}

/* ----- component functions ----------------------------------------------------------------- */

/** create: copies the parameters (the file is created at TRAIN_BEGIN, when run_dir is known). */
static aglm_status tb_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                             void *layout, void **instance) {
    tensorboard *self;
    (void)info;
    (void)layout;
    self = (tensorboard *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->log.every = aglm_param_i64(host, params, "every");
    self->flush_secs = aglm_param_f64(host, params, "flush_secs");
    self->dir = aglm_strdup(host, ctx, aglm_param_str(host, params, "dir"));
    if (self->dir == NULL) {
        free(self);
        return AGLM_ERR_OUT_OF_MEMORY;
    }
    *instance = self;
    return AGLM_OK;
}

/** destroy: closes the file if training did not reach TRAIN_END, frees everything. */
static void tb_destroy(void *instance) {
    tensorboard *self = (tensorboard *)instance;
    aglm_log_close(host, NULL, &self->log);
    aglm_log_free(&self->log);
    bytes_free(&self->value);
    bytes_free(&self->summary);
    bytes_free(&self->event);
    free(self->dir);
    free(self);
}

/** STEP_END on a logged step: the train/ scalars. */
static aglm_status on_step_end(tensorboard *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    add_scalar(self, "train/loss", state->loss);
    add_scalar(self, "train/lr", state->lr);
    add_scalar(self, "train/grad_norm", state->grad_norm);
    if (state->elapsed_seconds > 0)
        add_scalar(self, "train/tokens_per_s",
                   (double)state->tokens_seen / state->elapsed_seconds);
    return write_event(self, ctx, 1, state->step, NULL, 0, state->elapsed_seconds);
}

/** EVALUATE: every metric under its own name, flushed. */
static aglm_status on_evaluate(tensorboard *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    size_t i, added = 0;
    for (i = 0; state->metrics != NULL && i < state->metric_count; ++i) {
        const aglm_metric *m = aglm_metric_at(state, i);
        if (m->name == NULL || m->name[0] == '\0') continue;
        add_scalar(self, m->name, m->value);
        added += 1;
    }
    if (added == 0) return AGLM_OK;
    return write_event(self, ctx, 1, state->step, NULL, 1, state->elapsed_seconds);
}

/** on_event: writes the records described at the top of this file. Never changes `control`. */
static aglm_status tb_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                               const aglm_trainer_state *state, aglm_control *control) {
    tensorboard *self = (tensorboard *)instance;
    aglm_status st;
    (void)control;
    if (!aglm_log_writes(state)) return AGLM_OK; /* under mpirun, rank 0 alone writes */
    switch (event) {
    case AGLM_EVENT_TRAIN_BEGIN:
        return open_file(self, ctx, state);
    case AGLM_EVENT_STEP_END:
        if (state->step % self->log.every != 0) return AGLM_OK;
        if ((st = open_file(self, ctx, state)) != AGLM_OK) return st;
        return on_step_end(self, ctx, state);
    case AGLM_EVENT_EVALUATE:
        if ((st = open_file(self, ctx, state)) != AGLM_OK) return st;
        return on_evaluate(self, ctx, state);
    case AGLM_EVENT_SAVE:
        if (self->log.out == NULL) return AGLM_OK;
        self->last_flush = state->elapsed_seconds;
        return aglm_log_flush(host, ctx, &self->log);
    case AGLM_EVENT_TRAIN_END:
        return aglm_log_close(host, ctx, &self->log);
    default: /* STEP_BEGIN and events of later ABI minors */
        return AGLM_OK;
    }
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable tb_vtable = {sizeof(aglm_callback_vtable), tb_on_event};

/** init: registers the "tensorboard" callback. */
static aglm_status tb_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "tensorboard",
                       "writes loss, lr, grad norm, throughput and eval metrics as TensorBoard "
                       "event files",
                       "1.0.0", AGLM_SCHEMA(tb_params), tb_create, tb_destroy, &tb_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-tensorboard", "1.0.0", tb_init);
