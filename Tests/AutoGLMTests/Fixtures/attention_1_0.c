/*
 * Test fixture: a composed attention as a plugin built against ABI 1.0 sees it: its vtable's
 * struct_size stops before `decode` (ABI 1.2), and the entry declares abi_minor 0. The host must
 * load it, read no decode entry (the bytes after the struct hold a non-NULL pointer on purpose),
 * and sample by recomputation. Its forward is plain causal attention with scale 1/sqrt(D).
 * With -DBAD_DECODE it is instead a 1.2 attention whose decode ignores the cache (it returns v
 * for every query), which `plugins validate` must catch.
 */
#include <autoglm/helpers.h>

#include <math.h>
#include <stddef.h>
#include <string.h>

static const aglm_host_api *host;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static int one;
    (void)ctx; (void)p; (void)info; (void)layout;
    *instance = &one;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_tensor *forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k, aglm_tensor *v) {
    const double scale = 1.0 / sqrt((double)host->tensor_dim(q, -1));
    aglm_tensor *s = host->affine(ctx, host->matmul(ctx, q, k, 0, 1), scale, 0.0);
    (void)instance;
    return host->matmul(ctx, host->softmax(ctx, s, AGLM_MASK_CAUSAL), v, 0, 0);
}

/** A decode that is wrong: out = v of the same rows. */
static aglm_status decode(void *instance, aglm_ctx *ctx, const aglm_decode_args *a) {
    (void)instance;
    (void)ctx;
    memcpy(a->out->data, a->v->data, (size_t)aglm_view_numel(a->v) * sizeof(float));
    return AGLM_OK;
}

#ifdef BAD_DECODE
static const aglm_attention_vtable vtable = {sizeof(aglm_attention_vtable), forward, NULL, NULL, NULL, decode};
#define ENTRY_MINOR AGLM_ABI_MINOR
#else
/* The 1.0 size, followed by a stray decode pointer the host must not read. */
static const aglm_attention_vtable vtable = {offsetof(aglm_attention_vtable, decode), forward, NULL, NULL, NULL, decode};
#define ENTRY_MINOR 0
#endif

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_ATTENTION, "attention_1_0", "causal attention, ABI 1.0 vtable (test fixture)",
                                           "1.0.0", AGLM_NO_PARAMS, create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {sizeof(aglm_plugin_entry), 1, ENTRY_MINOR, 0, "attention-1-0", "1.0.0", init};
    return &entry;
}
