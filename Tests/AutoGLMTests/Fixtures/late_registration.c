/*
 * Test fixture: a callback that calls register_function from on_event, after init, and returns
 * its status. The host must refuse with AGLM_ERR_STATE and "only allowed during the plugin's
 * init" (so `autoglm plugins validate` fails its event check with that message).
 */
#include <autoglm/helpers.h>

static const aglm_host_api *host;

static int32_t seven(void) { return 7; }

static aglm_status create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                          void **instance) {
    static int the_instance;
    (void)ctx;
    (void)params;
    (void)info;
    (void)layout;
    *instance = &the_instance;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                            const aglm_trainer_state *state, aglm_control *control) {
    (void)instance;
    (void)event;
    (void)state;
    (void)control;
    return host->register_function(ctx, "int32_t seven(void)", AGLM_FN(seven), NULL);
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_CALLBACK, "late_registration",
                                           "registers a function too late", "1.0.0",
                                           AGLM_NO_PARAMS, create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("late-registration", "1.0.0", init);
