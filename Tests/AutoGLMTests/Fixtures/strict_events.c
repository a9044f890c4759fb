/*
 * Test fixture: a callback that refuses any event it does not know, as one written against
 * ABI 1.1 (events 1..6) might. Built with -DAS_MINOR_1 it declares abi_minor 1, and the host
 * must never send it AGLM_EVENT_EVALUATE_BEGIN (7, ABI 1.2); built against 1.2 it gets it (and
 * then fails, which shows the event was delivered).
 */
#include <autoglm/helpers.h>

static const aglm_host_api *host;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static int one;
    (void)ctx; (void)p; (void)info; (void)layout;
    *instance = &one;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event, const aglm_trainer_state *state,
                            aglm_control *control) {
    (void)instance; (void)state; (void)control;
    if (event < AGLM_EVENT_TRAIN_BEGIN || event > AGLM_EVENT_SAVE)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "unknown event %d", (int)event);
    return AGLM_OK;
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_CALLBACK, "strict_events", "refuses unknown events (test fixture)",
                                           "1.0.0", AGLM_NO_PARAMS, create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

#ifdef AS_MINOR_1
AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {sizeof(aglm_plugin_entry), 1, 1, 1, "strict-events-1-1", "1.0.0", init};
    return &entry;
}
#else
AGLM_DEFINE_PLUGIN("strict-events", "1.0.0", init);
#endif
