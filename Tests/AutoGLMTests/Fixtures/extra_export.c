/*
 * Test fixture: a working plugin that breaks the header's rule of one exported symbol: its
 * helper `extra_helper` and the global `extra_counter` are not static, so they are exported
 * next to aglm_plugin_entry_v1. `autoglm plugins validate` must name them.
 */
#include <autoglm/helpers.h>

int extra_counter;

int extra_helper(int x) { return x + extra_counter; }

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static int one;
    (void)ctx; (void)p; (void)info; (void)layout;
    *instance = &one;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event, const aglm_trainer_state *state,
                            aglm_control *control) {
    (void)instance; (void)ctx; (void)event; (void)state; (void)control;
    extra_counter = extra_helper(1);
    return AGLM_OK;
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_CALLBACK, "extra_export", "exports too much (test fixture)",
                                           "1.0.0", AGLM_NO_PARAMS, create, destroy, &vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("extra-export", "1.0.0", init);
