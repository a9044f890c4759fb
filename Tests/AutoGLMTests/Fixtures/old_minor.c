/*
 * Test fixture: a plugin "built against an older minor", ABI 1.0. It states abi_minor 0 and
 * min_host_minor 0, and fills every struct it hands the host with the size that struct had in
 * ABI 1.0 (the end of its last 1.0 field), not with today's sizeof, exactly as a binary
 * compiled years ago would. A host of any 1.x minor must load it. It registers one callback,
 * "old_minor_noop", which does nothing.
 */
#include <autoglm/plugin.h>

#include <stddef.h>

/** Size of `type` in ABI 1.0: up to and including `last_field`, its last field in 1.0. */
#define SIZE_IN_1_0(type, last_field) (offsetof(type, last_field) + sizeof(((type *)0)->last_field))

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

static const aglm_callback_vtable vtable = {
    SIZE_IN_1_0(aglm_callback_vtable, on_event), on_event,
};

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_component_desc d = {
        SIZE_IN_1_0(aglm_component_desc, vtable),
        AGLM_KIND_CALLBACK, "old_minor_noop", "does nothing (ABI 1.0 fixture)", "1.0.0",
        NULL, 0, create, destroy, NULL, NULL, &vtable,
    };
    return host->register_component(ctx, &d);
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        SIZE_IN_1_0(aglm_plugin_entry, init), 1, 0, 0, "old-minor", "1.0.0", init,
    };
    return &entry;
}
