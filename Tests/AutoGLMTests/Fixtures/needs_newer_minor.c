/*
 * Test fixture: a plugin built against ABI 1.7 that needs at least a 1.5 host. A 1.0 host must
 * refuse it ("needs host ABI 1.5 or newer, host speaks 1.0") without calling init.
 */
#include <autoglm/plugin.h>

/** Never called by a host older than 1.5. */
static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    host->set_error(ctx, "needs_newer_minor: init must not run on a host older than 1.5");
    return AGLM_ERR_INTERNAL;
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, 7, 5, "needs-newer-minor", "1.0.0", init,
    };
    return &entry;
}
