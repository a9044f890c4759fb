/*
 * csv_log — callback that writes the training curve as a CSV table (RFC 4180), one row per
 * logged step:
 *
 *   step,loss,lr,grad_norm,tokens_seen,elapsed_s,val/loss,val/perplexity
 *   10,2.8123,0.001,0.91,2560,1.25,,
 *   20,2.4312,0.001,0.83,5120,2.51,2.5,12.18
 *
 * Columns. The first six are fixed: step, loss (mean training loss of the step), lr, grad_norm
 * (before clipping), tokens_seen and elapsed_s (wall time since training began). Then one column
 * per metric reported by the FIRST evaluation, in the order reported (the host names them
 * "val/loss" and "val/<evaluator metric>"). The header is therefore written at the first
 * evaluation; rows of earlier steps are kept in memory until then (or until TRAIN_END if no
 * evaluation happens, in which case the table has only the fixed columns).
 *
 * Rows. A row is written for every step with step % every == 0 and for every step at which an
 * evaluation ran; its metric cells hold that evaluation's values and are empty on rows without
 * an evaluation. NaN and infinities are written as nan, inf and -inf (read as floats by pandas
 * and numpy); an empty cell means "not measured". Numbers use the fewest digits that read back
 * as the same double.
 *
 * New metrics. The columns never change after the header is written: a metric that a later
 * evaluation reports but the first did not is not written (a warning names it the first time),
 * and a header metric missing from a later evaluation leaves its cell empty.
 *
 * Resume. The file is opened in append mode at TRAIN_BEGIN. If it already starts with a csv_log
 * header (a resumed run), that header's columns are reused and rows are appended under it; a
 * non-empty file with another first line is refused with a message. Each row is flushed when
 * written, and the file is closed at TRAIN_END (and in destroy after an abnormal end, writing
 * what was still pending).
 *
 * Parameters:
 *   file    string, default "metrics.csv": a relative path is resolved against the run
 *           directory (aglm_trainer_state.run_dir), an absolute one is used as is.
 *   every   int in [1, 1000000000], default 10: write a row every N steps (evaluation steps
 *           always get a row).
 *
 * No checkpoint state (the file itself carries the columns across a resume).
 */
#include "../common/aglm_log_util.h"
#include "../common/aglm_metric_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The host table, kept from init (valid for the life of the process). */
static const aglm_host_api *host;

/** Parameter schema. */
static const aglm_param_spec csv_params[] = {
    AGLM_PARAM_STRING_SPEC("file", "metrics.csv",
                           "output file; a relative path is resolved against the run directory"),
    AGLM_PARAM_INT_SPEC("every", 10, 1, 1000000000,
                        "write a row every N steps (evaluation steps always get a row)"),
};

/** The fixed columns. */
#define CSV_FIXED_HEADER "step,loss,lr,grad_norm,tokens_seen,elapsed_s"

/** A growable list of malloc'd strings. */
typedef struct string_list {
    char **items;
    size_t count, capacity;
} string_list;

/** One instance. */
typedef struct csv_log {
    aglm_log_file log;    /* `file`, `every`, the resolved path and the open file */
    int header_done;      /* the header is in the file and `columns` is final */
    string_list columns;  /* metric columns, after the fixed ones */
    string_list buffered; /* fixed parts of rows written before the header */
    string_list warned;   /* metrics not in the header that were already warned about */
    char *pending;        /* fixed part of the row of the current step, not yet written */
    int64_t pending_step;
} csv_log;

/* ----- small utilities ---------------------------------------------------------------------- */

/** Appends `s` to the list, taking ownership of it (malloc'd); 0 when out of memory (then `s`
 *  is still the caller's). */
static int list_take(string_list *l, char *s) {
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? 2 * l->capacity : 8;
        char **grown = (char **)realloc(l->items, cap * sizeof *grown);
        if (grown == NULL) return 0;
        l->items = grown;
        l->capacity = cap;
    }
    l->items[l->count++] = s;
    return 1;
}

/** Appends a copy of `s` to the list; 0 when out of memory. */
static int list_push(string_list *l, const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = (char *)malloc(n);
    if (copy == NULL) return 0;
    memcpy(copy, s, n);
    if (list_take(l, copy)) return 1;
    free(copy);
    return 0;
}

/** 1 if the list holds `s`. */
static int list_has(const string_list *l, const char *s) {
    size_t i;
    for (i = 0; i < l->count; ++i)
        if (strcmp(l->items[i], s) == 0) return 1;
    return 0;
}

/** Frees every item and the array. */
static void list_clear(string_list *l) {
    size_t i;
    for (i = 0; i < l->count; ++i) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->capacity = 0;
}

/** Writes a CSV field, quoted (with doubled quotes) if it holds a comma, quote or line break. */
static void write_field(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; ++s) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/** Splits the CSV header line `line` (no line break) into fields (RFC 4180 quoting); appends
 *  them to `out`. 0 on malformed quoting or out of memory. */
static int parse_header(const char *line, string_list *out) {
    size_t len = strlen(line);
    char *field = (char *)malloc(len + 1);
    const char *c = line;
    if (field == NULL) return 0;
    for (;;) {
        size_t n = 0;
        if (*c == '"') {
            for (++c;; ++c) {
                if (*c == '\0') {
                    free(field);
                    return 0;
                }
                if (*c == '"') {
                    if (c[1] != '"') break;
                    ++c;
                }
                field[n++] = *c;
            }
            ++c; /* closing quote */
            if (*c != ',' && *c != '\0') {
                free(field);
                return 0;
            }
        } else {
            while (*c != ',' && *c != '\0') field[n++] = *c++;
        }
        field[n] = '\0';
        if (!list_push(out, field)) {
            free(field);
            return 0;
        }
        if (*c == '\0') break;
        ++c; /* comma */
    }
    free(field);
    return 1;
}

/* ----- rows ---------------------------------------------------------------------------------- */

/** Formats the fixed part of a row from the trainer state into a new malloc'd string. */
static char *fixed_part(const aglm_trainer_state *state) {
    char loss[40], lr[40], grad[40], elapsed[40], line[256];
    char *copy;
    size_t n;
    snprintf(line, sizeof line, "%" PRId64 ",%s,%s,%s,%" PRId64 ",%s", state->step,
             aglm_format_double(loss, sizeof loss, state->loss),
             aglm_format_double(lr, sizeof lr, state->lr),
             aglm_format_double(grad, sizeof grad, state->grad_norm), state->tokens_seen,
             aglm_format_double(elapsed, sizeof elapsed, state->elapsed_seconds));
    n = strlen(line) + 1;
    copy = (char *)malloc(n);
    if (copy != NULL) memcpy(copy, line, n);
    return copy;
}

/** Writes the header and then the rows buffered before it (with empty metric cells). */
static aglm_status write_header(csv_log *self, aglm_ctx *ctx) {
    size_t i, j;
    fputs(CSV_FIXED_HEADER, self->log.out);
    for (i = 0; i < self->columns.count; ++i) {
        fputc(',', self->log.out);
        write_field(self->log.out, self->columns.items[i]);
    }
    fputc('\n', self->log.out);
    for (i = 0; i < self->buffered.count; ++i) {
        fputs(self->buffered.items[i], self->log.out);
        for (j = 0; j < self->columns.count; ++j) fputc(',', self->log.out);
        fputc('\n', self->log.out);
    }
    list_clear(&self->buffered);
    self->header_done = 1;
    return aglm_log_flush(host, ctx, &self->log);
}

/** Writes (or buffers, before the header) one row: `fixed` (taken over) plus the metric cells,
 *  filled from `state` when `with_metrics`. */
static aglm_status emit_row(csv_log *self, aglm_ctx *ctx, char *fixed,
                            const aglm_trainer_state *state, int with_metrics) {
    char number[40];
    size_t i;
    if (!self->header_done) {
        if (!list_take(&self->buffered, fixed)) {
            free(fixed);
            return ctx != NULL ? aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory")
                               : AGLM_ERR_OUT_OF_MEMORY;
        }
        return AGLM_OK;
    }
    fputs(fixed, self->log.out);
    free(fixed);
    for (i = 0; i < self->columns.count; ++i) {
        const aglm_metric *m =
            with_metrics ? aglm_metric_find(state, self->columns.items[i]) : NULL;
        fputc(',', self->log.out);
        if (m != NULL) fputs(aglm_format_double(number, sizeof number, m->value), self->log.out);
    }
    fputc('\n', self->log.out);
    return aglm_log_flush(host, ctx, &self->log);
}

/** Writes the pending row of a step without evaluation, if any. */
static aglm_status flush_pending(csv_log *self, aglm_ctx *ctx) {
    char *fixed = self->pending;
    if (fixed == NULL) return AGLM_OK;
    self->pending = NULL;
    return emit_row(self, ctx, fixed, NULL, 0);
}

/* ----- file handling ------------------------------------------------------------------------ */

/** Resolves the path, reads an existing header (resume) and opens the file for appending. */
static aglm_status open_file(csv_log *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    FILE *existing;
    aglm_status st;
    if (self->log.out != NULL) return AGLM_OK;
    if ((st = aglm_log_resolve(host, ctx, &self->log, state->run_dir)) != AGLM_OK) return st;
    existing = fopen(self->log.path, "r");
    if (existing != NULL) {
        char line[8192];
        size_t len, fixed_len = strlen(CSV_FIXED_HEADER), i;
        string_list fields = {NULL, 0, 0};
        int ok = fgets(line, sizeof line, existing) != NULL;
        int truncated = ok && strchr(line, '\n') == NULL && !feof(existing);
        fclose(existing);
        if (truncated)
            return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                               "the header line of '%s' is longer than %lu bytes", self->log.path,
                               (unsigned long)sizeof line - 1);
        if (ok) { /* a non-empty file: it must be ours */
            len = strlen(line);
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
            if (strncmp(line, CSV_FIXED_HEADER, fixed_len) != 0 ||
                (line[fixed_len] != ',' && line[fixed_len] != '\0') ||
                !parse_header(line, &fields)) {
                list_clear(&fields);
                return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                                   "'%s' exists but does not start with a csv_log header (%s...): "
                                   "choose another file",
                                   self->log.path, CSV_FIXED_HEADER);
            }
            list_clear(&self->columns);
            for (i = 6; i < fields.count; ++i)
                if (!list_push(&self->columns, fields.items[i])) {
                    list_clear(&fields);
                    return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
                }
            list_clear(&fields);
            self->header_done = 1;
        }
    }
    if ((st = aglm_log_open(host, ctx, &self->log)) != AGLM_OK) return st;
    aglm_logf(host, ctx, AGLM_LOG_INFO, "writing the training curve to %s%s", self->log.path,
              self->header_done ? " (continuing its table)" : "");
    return AGLM_OK;
}

/** Writes whatever is pending (header with the columns known so far, buffered rows, the
 *  pending row) and closes the file. `ctx` may be NULL (from destroy). */
static aglm_status finish(csv_log *self, aglm_ctx *ctx) {
    aglm_status st = AGLM_OK, closed;
    if (self->log.out == NULL) return AGLM_OK;
    if (!self->header_done) st = write_header(self, ctx);
    if (st == AGLM_OK) st = flush_pending(self, ctx);
    closed = aglm_log_close(host, st == AGLM_OK ? ctx : NULL, &self->log);
    return st != AGLM_OK ? st : closed;
}

/* ----- component functions ------------------------------------------------------------------ */

/** create: copies the parameters (the file is opened at TRAIN_BEGIN, when run_dir is known). */
static aglm_status csv_create(aglm_ctx *ctx, const aglm_params *params, const void *info,
                              void *layout, void **instance) {
    csv_log *self;
    aglm_status st;
    (void)info;
    (void)layout;
    self = (csv_log *)aglm_calloc(host, ctx, sizeof *self);
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    if ((st = aglm_log_init(host, ctx, params, &self->log)) != AGLM_OK) {
        free(self);
        return st;
    }
    *instance = self;
    return AGLM_OK;
}

/** destroy: writes what is pending if training ended without TRAIN_END, frees everything. */
static void csv_destroy(void *instance) {
    csv_log *self = (csv_log *)instance;
    finish(self, NULL);
    free(self->pending);
    list_clear(&self->columns);
    list_clear(&self->buffered);
    list_clear(&self->warned);
    aglm_log_free(&self->log);
    free(self);
}

/** At EVALUATE: fixes the columns at the first evaluation, then writes the step's row with its
 *  metrics. */
static aglm_status on_evaluate(csv_log *self, aglm_ctx *ctx, const aglm_trainer_state *state) {
    char *fixed;
    size_t i;
    aglm_status st;
    if (!self->header_done) {
        for (i = 0; state->metrics != NULL && i < state->metric_count; ++i) {
            const char *name = aglm_metric_at(state, i)->name;
            if (name != NULL && !list_has(&self->columns, name) &&
                !list_push(&self->columns, name))
                return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        if ((st = write_header(self, ctx)) != AGLM_OK) return st;
    } else {
        for (i = 0; state->metrics != NULL && i < state->metric_count; ++i) {
            const aglm_metric *m = aglm_metric_at(state, i);
            if (m->name == NULL || list_has(&self->columns, m->name) ||
                list_has(&self->warned, m->name))
                continue;
            aglm_logf(host, ctx, AGLM_LOG_WARN,
                      "metric %s was not reported by the first evaluation: it has no column in "
                      "%s and is not written",
                      m->name, self->log.path);
            if (!list_push(&self->warned, m->name))
                return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
    }
    /* the row of this step: the pending one from STEP_END, or a new one */
    if (self->pending != NULL && self->pending_step == state->step) {
        fixed = self->pending;
        self->pending = NULL;
    } else {
        if ((st = flush_pending(self, ctx)) != AGLM_OK) return st;
        fixed = fixed_part(state);
        if (fixed == NULL) return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    return emit_row(self, ctx, fixed, state, 1);
}

/** on_event: writes the rows described at the top of this file. Never changes `control`. */
static aglm_status csv_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                const aglm_trainer_state *state, aglm_control *control) {
    csv_log *self = (csv_log *)instance;
    aglm_status st;
    (void)control;
    if (!aglm_log_writes(state)) return AGLM_OK; /* under mpirun, rank 0 alone writes */
    if (event != AGLM_EVENT_TRAIN_BEGIN && event != AGLM_EVENT_STEP_BEGIN &&
        event != AGLM_EVENT_STEP_END && event != AGLM_EVENT_EVALUATE &&
        event != AGLM_EVENT_SAVE && event != AGLM_EVENT_TRAIN_END)
        return AGLM_OK; /* events of later ABI minors */
    if ((st = open_file(self, ctx, state)) != AGLM_OK) return st;
    switch (event) {
    case AGLM_EVENT_STEP_END:
        if ((st = flush_pending(self, ctx)) != AGLM_OK) return st;
        if (state->step % self->log.every == 0) {
            self->pending = fixed_part(state);
            self->pending_step = state->step;
            if (self->pending == NULL)
                return aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        return AGLM_OK;
    case AGLM_EVENT_EVALUATE:
        return on_evaluate(self, ctx, state);
    case AGLM_EVENT_STEP_BEGIN:
    case AGLM_EVENT_SAVE:
        return flush_pending(self, ctx);
    case AGLM_EVENT_TRAIN_END:
        return finish(self, ctx);
    default: /* TRAIN_BEGIN: the file was opened above */
        return AGLM_OK;
    }
}

/** The callback vtable (static: the host keeps the pointer). */
static const aglm_callback_vtable csv_vtable = {sizeof(aglm_callback_vtable), csv_on_event};

/** init: registers the "csv_log" callback. */
static aglm_status csv_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "csv_log",
                       "writes the training curve (loss, lr, metrics per step) to a CSV file",
                       "1.0.0", AGLM_SCHEMA(csv_params), csv_create, csv_destroy, &csv_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("autoglm-builtin-csv-log", "1.0.0", csv_init);
