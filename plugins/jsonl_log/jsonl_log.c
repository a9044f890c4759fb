/*
 * jsonl_log — callback that appends one JSON object per line (JSON Lines) to a file, e.g.
 *
 *   {"event":"step_end","step":20,"loss":2.4312,"lr":0.001,"grad_norm":0.83,"tokens_seen":40960,
 *    "elapsed_s":3.52,"metrics":{"val/loss":2.5,"val/perplexity":12.18}}
 *
 * (on one line). Every line has the same keys: event ("train_begin", "step_end", "evaluate",
 * "save", "train_end"), step, loss, lr, grad_norm, tokens_seen, elapsed_s and metrics (the
 * latest evaluation metrics, {} before the first evaluation). A NaN or infinite number is
 * written as null, so every line stays valid JSON.
 *
 * TRAIN_BEGIN, TRAIN_END, EVALUATE and SAVE are always logged; STEP_END every `every` steps.
 * The file is opened in append mode at TRAIN_BEGIN (so a resumed run continues it), flushed
 * after each line and closed at TRAIN_END (and in destroy, if training ended abnormally).
 *
 * Parameters:
 *   file    string, default "events.jsonl": a relative path is resolved against the run
 *           directory (aglm_trainer_state.run_dir), an absolute one is used as is.
 *   every   int >= 1, default 10: log STEP_END only when step % every == 0.
 *
 * Checkpoint state (save_state/load_state): the number of lines written so far in this run,
 * restored on resume and reported in the log messages; a small demonstration of the state
 * path.
 */
#include <autoglm/helpers.h>

#include "../common/aglm_log_util.h"

#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec jsonl_params[] = {
    AGLM_PARAM_STRING_SPEC("file", "events.jsonl",
                           "output file; a relative path is resolved against the run directory"),
    AGLM_PARAM_INT_SPEC("every", 10, 1, INFINITY, "log step_end events only every N steps"),
};

/** One instance. */
typedef struct jsonl_log {
    aglm_log_file log; /* `file`, `every`, the resolved path and the open file */
    int64_t lines;     /* lines written in this run, including before a resume (checkpointed) */
} jsonl_log;

/* ----- JSON writing ------------------------------------------------------------------------ */

/** Writes a JSON string literal, escaping quotes, backslashes and control characters (other
 *  bytes, including UTF-8 sequences, are copied). */
static void write_json_string(FILE *f, const char *s) {
    const unsigned char *c;
    fputc('"', f);
    for (c = (const unsigned char *)(s != NULL ? s : ""); *c != '\0'; ++c) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else if (*c == '\t')
            fputs("\\t", f);
        else if (*c < 0x20)
            fprintf(f, "\\u%04x", (unsigned)*c);
        else
            fputc(*c, f);
    }
    fputc('"', f);
}

/** Writes a JSON number with the fewest significant digits (15 to 17) that read back as the
 *  same double; NaN and infinities, which JSON cannot represent, as null. */
static void write_json_number(FILE *f, double x) {
    char buf[40];
    int digits;
    if (!isfinite(x)) {
        fputs("null", f);
        return;
    }
    for (digits = 15; digits < 17; ++digits) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (strtod(buf, NULL) == x) break;
    }
    if (digits == 17) snprintf(buf, sizeof buf, "%.17g", x);
    fputs(buf, f);
}

/** Name of an event in the log ("" for events this callback does not log). */
static const char *event_name(aglm_event event) {
    switch (event) {
    case AGLM_EVENT_TRAIN_BEGIN: return "train_begin";
    case AGLM_EVENT_TRAIN_END: return "train_end";
    case AGLM_EVENT_STEP_END: return "step_end";
    case AGLM_EVENT_EVALUATE: return "evaluate";
    case AGLM_EVENT_SAVE: return "save";
    default: return "";
    }
}

/* ----- file handling ----------------------------------------------------------------------- */

/** Opens the output file (append mode) if it is not open yet. */
static aglm_status ensure_open(jsonl_log *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    aglm_status st;
    if (self->log.out != NULL) return AGLM_OK;
    if ((st = aglm_log_resolve(host, ctx, &self->log, state->run_dir)) != AGLM_OK ||
        (st = aglm_log_open(host, ctx, &self->log)) != AGLM_OK)
        return st;
    aglm_logf(host, ctx, AGLM_LOG_INFO, "appending events to %s (%" PRId64 " lines so far)",
              self->log.path, self->lines);
    return AGLM_OK;
}

/** Appends one line for `event` and flushes it. */
static aglm_status write_line(jsonl_log *self, aglm_ctx *ctx, aglm_event event,
                              const aglm_trainer_state *state) {
    FILE *f = self->log.out;
    aglm_status st;
    size_t i;
    fputs("{\"event\":", f);
    write_json_string(f, event_name(event));
    fprintf(f, ",\"step\":%" PRId64 ",\"loss\":", state->step);
    write_json_number(f, state->loss);
    fputs(",\"lr\":", f);
    write_json_number(f, state->lr);
    fputs(",\"grad_norm\":", f);
    write_json_number(f, state->grad_norm);
    fprintf(f, ",\"tokens_seen\":%" PRId64 ",\"elapsed_s\":", state->tokens_seen);
    write_json_number(f, state->elapsed_seconds);
    fputs(",\"metrics\":{", f);
    for (i = 0; i < state->metric_count; ++i) {
        if (i > 0) fputc(',', f);
        write_json_string(f, state->metrics[i].name);
        fputc(':', f);
        write_json_number(f, state->metrics[i].value);
    }
    fputs("}}\n", f);
    if ((st = aglm_log_flush(host, ctx, &self->log)) != AGLM_OK) return st;
    self->lines += 1;
    return AGLM_OK;
}

/* ----- component functions ----------------------------------------------------------------- */

/** create: copies the parameters (the file is opened at TRAIN_BEGIN, when run_dir is known). */
static aglm_status jsonl_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                                void *layout, void **instance) {
    jsonl_log *self;
    aglm_status st;
    (void)info;
    (void)layout;
    self = (jsonl_log *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    if ((st = aglm_log_init(host, ctx, params, &self->log)) != AGLM_OK) {
        free(self);
        return st;
    }
    *instance = self;
    return AGLM_OK;
}

/** destroy: closes the file if training did not reach TRAIN_END, frees everything. */
static void jsonl_destroy(void *instance) {
    jsonl_log *self = (jsonl_log *)instance;
    aglm_log_close(host, NULL, &self->log);
    aglm_log_free(&self->log);
    free(self);
}

/** on_event: writes the events described at the top of this file. Never changes `control`. */
static aglm_status jsonl_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                  const aglm_trainer_state *state, aglm_control *control) {
    jsonl_log *self = (jsonl_log *)instance;
    aglm_status st;
    (void)control;
    if (!aglm_log_writes(state)) return AGLM_OK; /* under mpirun, rank 0 alone writes */
    switch (event) {
    case AGLM_EVENT_STEP_END:
        if (state->step % self->log.every != 0) return AGLM_OK;
        break;
    case AGLM_EVENT_TRAIN_BEGIN:
    case AGLM_EVENT_TRAIN_END:
    case AGLM_EVENT_EVALUATE:
    case AGLM_EVENT_SAVE:
        break;
    default: /* STEP_BEGIN and events of later ABI minors: not logged */
        return AGLM_OK;
    }
    if ((st = ensure_open(self, ctx, state)) != AGLM_OK) return st;
    if ((st = write_line(self, ctx, event, state)) != AGLM_OK) return st;
    if (event == AGLM_EVENT_TRAIN_END) {
        aglm_logf(host, ctx, AGLM_LOG_INFO, "%" PRId64 " lines written to %s", self->lines,
                  self->log.path);
        return aglm_log_close(host, ctx, &self->log);
    }
    return AGLM_OK;
}

/** Size of the checkpointed state: magic "JSNL", format version (u32), lines (i64), all
 *  little-endian. */
#define JSONL_STATE_SIZE 16

/** save_state: writes the line count. */
static aglm_status jsonl_save_state(void *instance, aglm_ctx *ctx) {
    const jsonl_log *self = (const jsonl_log *)instance;
    unsigned char buf[JSONL_STATE_SIZE] = {'J', 'S', 'N', 'L', 1, 0, 0, 0};
    uint64_t lines = (uint64_t)self->lines;
    int i;
    for (i = 0; i < 8; ++i) buf[8 + i] = (unsigned char)(lines >> (8 * i));
    return host->write_state(ctx, buf, sizeof buf);
}

/** load_state: restores the line count written by save_state. */
static aglm_status jsonl_load_state(void *instance, aglm_ctx *ctx, const void *data, size_t size) {
    jsonl_log *self = (jsonl_log *)instance;
    const unsigned char *buf = (const unsigned char *)data;
    uint64_t lines = 0;
    int i;
    if (size != JSONL_STATE_SIZE || memcmp(buf, "JSNL", 4) != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "not a jsonl_log state (%lu bytes)", (unsigned long)size);
    if (buf[4] != 1 || buf[5] != 0 || buf[6] != 0 || buf[7] != 0)
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "jsonl_log state format %u is not supported (this plugin reads 1)",
                           (unsigned)buf[4]);
    for (i = 0; i < 8; ++i) lines |= (uint64_t)buf[8 + i] << (8 * i);
    self->lines = (int64_t)lines;
    return AGLM_OK;
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable jsonl_vtable = {sizeof(aglm_callback_vtable), jsonl_on_event};

/** init: registers the "jsonl_log" callback. */
static aglm_status jsonl_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "jsonl_log",
                       "appends training events and metrics to a JSON Lines file", "1.0.0",
                       AGLM_SCHEMA(jsonl_params), jsonl_create, jsonl_destroy, &jsonl_vtable);
    d.save_state = jsonl_save_state;
    d.load_state = jsonl_load_state;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-jsonl-log", "1.0.0", jsonl_init);
