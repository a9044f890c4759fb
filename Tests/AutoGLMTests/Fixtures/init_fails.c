/*
 * Test fixture: a plugin whose init fails. It attaches a message with host->set_error and
 * returns AGLM_ERR_INTERNAL; the host must skip the library and report the message.
 */
#include <autoglm/plugin.h>

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    host->set_error(ctx, "could not open model weights: /nonexistent");
    return AGLM_ERR_INTERNAL;
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, 0, "init-fails", "1.0.0", init,
    };
    return &entry;
}
