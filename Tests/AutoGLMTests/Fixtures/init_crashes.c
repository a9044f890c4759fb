/*
 * Test fixture: a plugin whose init dereferences NULL (SIGSEGV). The host must find that out in
 * a child process (`autoglm plugins probe`), report the file and the signal, and keep running.
 */
#include <autoglm/plugin.h>

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    (void)host;
    (void)ctx;
    *(volatile int *)0 = 1;
    return AGLM_OK;
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {
        sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, 0, "init-crashes", "1.0.0", init,
    };
    return &entry;
}
