/*
 * Test fixture: a plugin built for a (hypothetical) ABI major 2. It exports only
 * `aglm_plugin_entry_v2`, whose entry reports abi_major 2, and no `aglm_plugin_entry_v1`; the
 * host must refuse it with "built for ABI 2, host speaks 1" rather than call into it.
 */
#include <autoglm/plugin.h>

/** Never called by a major-1 host. */
static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    host->set_error(ctx, "wrong_major: init must not run on a major-1 host");
    return AGLM_ERR_INTERNAL;
}

/** The entry point a major-2 plugin would export. */
AGLM_EXPORT const aglm_plugin_entry *aglm_plugin_entry_v2(void);

AGLM_EXPORT const aglm_plugin_entry *aglm_plugin_entry_v2(void) {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), 2, 0, 0, "wrong-major", "2.0.0", init,
    };
    return &entry;
}
