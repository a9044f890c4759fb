/*
 * Test fixture: a callback that misbehaves once, at a chosen step and event, to test what the
 * host does when a plugin fails or the process dies (ReliabilityTests):
 *   action  kill   raise SIGKILL (the process is killed, as by the OOM killer or `kill -9`)
 *           segv   dereference NULL (a crashing plugin)
 *           abort  abort()
 *           error  return AGLM_ERR_INTERNAL with a message (a plugin call that fails)
 *           slow   sleep `sleep_ms` at every STEP_END (so a test can signal a run mid-way)
 *   at_step, event (step_begin | step_end | evaluate): when to act
 *   marker  a file: if it exists nothing happens; otherwise it is created just before acting, so
 *           the resumed run (same config) goes past the fault
 */
#define _POSIX_C_SOURCE 200809L /* access, nanosleep under -std=c99 */

#include <autoglm/helpers.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const aglm_host_api *host;

static const char *const actions[] = {"kill", "segv", "abort", "error", "slow", NULL};
static const char *const events[] = {"step_begin", "step_end", "evaluate", NULL};

static const aglm_param_spec fault_params[] = {
    AGLM_PARAM_CHOICE_SPEC("action", "error", actions, "what to do"),
    AGLM_PARAM_CHOICE_SPEC("event", "step_end", events, "at which event"),
    AGLM_PARAM_INT_SPEC("at_step", 1, 0, 1000000, "at which step"),
    AGLM_PARAM_STRING_SPEC("marker", "", "a file whose existence disables the fault (created when acting)"),
    AGLM_PARAM_INT_SPEC("sleep_ms", 0, 0, 10000, "slow: milliseconds at every step end"),
};

typedef struct fault {
    char action[8], event[16], marker[1024];
    int64_t at_step, sleep_ms;
} fault;

static aglm_status fault_create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    fault *self = (fault *)aglm_calloc(host, ctx, sizeof *self);
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    snprintf(self->action, sizeof self->action, "%s", host->param_string(p, "action"));
    snprintf(self->event, sizeof self->event, "%s", host->param_string(p, "event"));
    snprintf(self->marker, sizeof self->marker, "%s", host->param_string(p, "marker"));
    self->at_step = (int64_t)host->param_number(p, "at_step");
    self->sleep_ms = (int64_t)host->param_number(p, "sleep_ms");
    *instance = self;
    return AGLM_OK;
}

static void fault_destroy(void *instance) { free(instance); }

/** Whether this is the moment, and the marker says the fault has not happened yet (creating it). */
static int due(const fault *self, aglm_event event, int64_t step) {
    FILE *f;
    aglm_event want = strcmp(self->event, "step_begin") == 0 ? AGLM_EVENT_STEP_BEGIN
                      : strcmp(self->event, "evaluate") == 0 ? AGLM_EVENT_EVALUATE : AGLM_EVENT_STEP_END;
    /* At STEP_BEGIN the state's step is the steps completed: the step about to run is step + 1. */
    int64_t current = event == AGLM_EVENT_STEP_BEGIN ? step + 1 : step;
    if (event != want || current != self->at_step) return 0;
    if (self->marker[0] != '\0') {
        if (access(self->marker, F_OK) == 0) return 0;
        f = fopen(self->marker, "w");
        if (f != NULL) fclose(f);
    }
    return 1;
}

static aglm_status fault_on_event(void *instance, aglm_ctx *ctx, aglm_event event, const aglm_trainer_state *state,
                                  aglm_control *control) {
    const fault *self = (const fault *)instance;
    (void)control;
    if (strcmp(self->action, "slow") == 0) {
        if (event == AGLM_EVENT_STEP_END && self->sleep_ms > 0) {
            struct timespec ts = {(time_t)(self->sleep_ms / 1000), (long)(self->sleep_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        return AGLM_OK;
    }
    if (!due(self, event, state->step)) return AGLM_OK;
    if (strcmp(self->action, "kill") == 0) raise(SIGKILL);
    if (strcmp(self->action, "segv") == 0) {
        volatile int *null = NULL;
        *null = 1;
    }
    if (strcmp(self->action, "abort") == 0) abort();
    return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "injected failure at step %lld", (long long)state->step);
}

static const aglm_callback_vtable fault_vtable = {sizeof(aglm_callback_vtable), fault_on_event};

static aglm_status fault_init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_CALLBACK, "fault", "misbehaves once, on purpose (tests)", "1.0.0",
                       AGLM_SCHEMA(fault_params), fault_create, fault_destroy, &fault_vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("fault-callback", "1.0.0", fault_init);
