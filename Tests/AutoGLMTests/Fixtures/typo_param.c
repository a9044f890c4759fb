/*
 * Test fixture: an evaluator whose create asks for parameters by wrong names, as a typo in a
 * plugin's own code would: param_number("sclae") (the schema declares "scale") and
 * param_string("scale") (a FLOAT parameter read as a string). Built against ABI 1.2 by default,
 * so the host fails create; with -DAS_MINOR_1 it declares abi_minor 1, and the host only warns.
 */
#include <autoglm/helpers.h>

static const aglm_host_api *host;

static const aglm_param_spec params[] = {
    AGLM_PARAM_FLOAT_SPEC("scale", 1.0, -INFINITY, INFINITY, "a factor"),
};

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static double value;
    (void)ctx;
    (void)info;
    (void)layout;
    value = host->param_number(p, "sclae") + (double)host->param_string(p, "scale")[0];
    *instance = &value;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }
static aglm_status reset(void *instance, aglm_ctx *ctx) { (void)instance; (void)ctx; return AGLM_OK; }
static aglm_status update(void *instance, aglm_ctx *ctx, const aglm_view *logits, const aglm_view *targets) {
    (void)instance; (void)ctx; (void)logits; (void)targets;
    return AGLM_OK;
}
static aglm_status compute(void *instance, aglm_ctx *ctx) {
    host->emit_metric(ctx, "typo", *(const double *)instance);
    return AGLM_OK;
}

static const aglm_evaluator_vtable vtable = {sizeof(aglm_evaluator_vtable), reset, update, compute};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_EVALUATOR, "typo", "reads a misspelt parameter (test fixture)",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    host = h;
    return host->register_component(ctx, &d);
}

#ifdef AS_MINOR_1
AGLM_PLUGIN_ENTRY {
    static const aglm_plugin_entry entry = {sizeof(aglm_plugin_entry), 1, 1, 1, "typo-1-1", "1.0.0", init};
    return &entry;
}
#else
AGLM_DEFINE_PLUGIN("typo", "1.0.0", init);
#endif
