/* A test callback for data-parallel runs (MPITrainingTests): at TRAIN_BEGIN each rank writes
 * "<rank> <world_size>" (ABI 1.3's aglm_trainer_state fields) to run_dir/rank-<rank>.txt, and
 * after every step it sleeps `sleep_ms` milliseconds, so a test has time to kill a rank mid-run.
 * With `stop_rank` >= 0, that rank alone asks for a stop after step `stop_step` (the ranks'
 * requests are combined: every rank stops). */
#define _POSIX_C_SOURCE 200809L
#include <autoglm/helpers.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const aglm_host_api *host;

static const aglm_param_spec witness_params[] = {
    AGLM_PARAM_INT_SPEC("sleep_ms", 0, 0, 10000, "milliseconds to sleep after each step"),
    AGLM_PARAM_INT_SPEC("stop_rank", -1, -1, 1024, "the rank that asks for a stop (-1: none)"),
    AGLM_PARAM_INT_SPEC("stop_step", 0, 0, 1000000, "the step after which it asks"),
};

typedef struct witness {
    int64_t sleep_ms, stop_rank, stop_step;
} witness;

static aglm_status witness_create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                                  void **instance) {
    witness *self = (witness *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->sleep_ms = (int64_t)host->param_number(params, "sleep_ms");
    self->stop_rank = (int64_t)host->param_number(params, "stop_rank");
    self->stop_step = (int64_t)host->param_number(params, "stop_step");
    *instance = self;
    return AGLM_OK;
}

static void witness_destroy(void *instance) { free(instance); }

static aglm_status witness_on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                                    const aglm_trainer_state *state, aglm_control *control) {
    const witness *self = (const witness *)instance;
    if (!AGLM_HAS_FIELD(state, aglm_trainer_state, world_size))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "the host's trainer state has no rank/world_size");
    if (event == AGLM_EVENT_TRAIN_BEGIN) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof path, "%s/rank-%d.txt", state->run_dir, (int)state->rank);
        f = fopen(path, "w");
        if (f == NULL) return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "cannot write %s", path);
        fprintf(f, "%d %d\n", (int)state->rank, (int)state->world_size);
        fclose(f);
    }
    if (event == AGLM_EVENT_STEP_END) {
        struct timespec t;
        t.tv_sec = (time_t)(self->sleep_ms / 1000);
        t.tv_nsec = (long)(self->sleep_ms % 1000) * 1000000L;
        if (self->sleep_ms > 0) nanosleep(&t, NULL);
        if (state->rank == self->stop_rank && state->step == self->stop_step) control->stop = 1;
    }
    return AGLM_OK;
}

static const aglm_callback_vtable witness_vtable = {sizeof(aglm_callback_vtable), witness_on_event};

static aglm_status witness_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "rank_witness", "records rank and world size; sleeps after steps",
                       "1.0.0", AGLM_SCHEMA(witness_params), witness_create, witness_destroy, &witness_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("rank-witness", "1.0.0", witness_init);
