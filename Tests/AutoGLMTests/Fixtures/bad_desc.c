/*
 * Test fixture: a plugin registering a malformed component: an optimizer whose vtable lacks the
 * required `step` function. register_component must refuse it with a message naming the NULL
 * function; init passes that status on, so the whole library is skipped.
 */
#include <autoglm/plugin.h>

#include <stdlib.h>

static aglm_status create(aglm_ctx *ctx, const aglm_params *params, const void *info, void *layout,
                          void **instance) {
    (void)ctx;
    (void)params;
    (void)info;
    (void)layout;
    *instance = malloc(1);
    return *instance != NULL ? AGLM_OK : AGLM_ERR_OUT_OF_MEMORY;
}

static void destroy(void *instance) { free(instance); }

static aglm_status declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                 aglm_state_decl *decls, size_t capacity, size_t *count) {
    (void)instance;
    (void)ctx;
    (void)param;
    (void)decls;
    (void)capacity;
    *count = 0;
    return AGLM_OK;
}

/** step (required) is missing. */
static const aglm_optimizer_vtable vtable = {sizeof(aglm_optimizer_vtable), declare_state, NULL, NULL};

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_component_desc d = {
        sizeof(aglm_component_desc), AGLM_KIND_OPTIMIZER, "bad_sgd", "an optimizer without step",
        "1.0.0", NULL, 0, create, destroy, NULL, NULL, &vtable,
    };
    return host->register_component(ctx, &d);
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, 0, "bad-desc", "1.0.0", init,
    };
    return &entry;
}
