/*
 * Test fixture: a plugin built against ABI 1.1 (abi_minor 1, min_host_minor 1) that knows
 * nothing of register_function, written against plugin.h alone. A 1.2 host must load it. It
 * registers one callback, "minor_1_1_noop", which does nothing.
 */
#include <autoglm/plugin.h>

static aglm_status create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                          void **instance) {
    static int the_instance;
    (void)ctx;
    (void)params;
    (void)info;
    (void)layout;
    *instance = &the_instance; /* stateless: any non-NULL pointer will do */
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event,
                            const aglm_trainer_state *state, aglm_control *control) {
    (void)instance;
    (void)ctx;
    (void)event;
    (void)state;
    (void)control;
    return AGLM_OK;
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_component_desc d = {
        sizeof(aglm_component_desc), AGLM_KIND_CALLBACK, "minor_1_1_noop",
        "does nothing (ABI 1.1 fixture)", "1.0.0", NULL, 0, create, destroy, NULL, NULL, &vtable,
    };
    return host->register_component(ctx, &d);
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), 1, 1, 1, "minor-1-1", "1.0.0", init,
    };
    return &entry;
}
