/*
 * Test fixture: schemas with exclusive bounds (ABI 1.2 min_exclusive / max_exclusive).
 * Component "bounded" declares rate in (0, 1), eps > 0, pair each in [0, 1), and "legacy", a
 * parameter whose spec claims the ABI 1.0 struct_size: its min_exclusive (set to 1 here) lies
 * beyond that size, so the host must not read it and the bound stays inclusive. With -DBAD=N
 * the library instead registers one malformed schema: 1 an exclusive flag on a BOOL, 2 on an
 * infinite bound, 3 a default equal to the excluded bound.
 */
#include <autoglm/helpers.h>

#include <stddef.h>

static const aglm_host_api *host;

#ifndef BAD
static const double pair_default[2] = {0.5, 0.0};
static const aglm_param_spec bounded[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("rate", 0.5, 0.0, 1.0, AGLM_OPEN, "in (0, 1)"),
    AGLM_PARAM_FLOAT_RANGE_SPEC("eps", 1e-8, 0.0, INFINITY, AGLM_OPEN_MIN, "> 0"),
    AGLM_PARAM_FLOAT_LIST_RANGE_SPEC("pair", pair_default, 2, 0.0, 1.0, AGLM_OPEN_MAX, "each in [0, 1)"),
};
static const aglm_param_spec legacy[] = {
    {offsetof(aglm_param_spec, min_exclusive), "floor", AGLM_PARAM_FLOAT, "inclusive: the flag lies past struct_size",
     0.0, NULL, NULL, 0, 0.0, 1.0, NULL, 0, 1, 1},
};
#elif BAD == 1
static const aglm_param_spec bounded[] = {
    {sizeof(aglm_param_spec), "flag", AGLM_PARAM_BOOL, "a bool", 0.0, NULL, NULL, 0, 0.0, 1.0, NULL, 0, 1, 0},
};
#elif BAD == 2
static const aglm_param_spec bounded[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("big", 1.0, 0.0, INFINITY, AGLM_OPEN, "excludes infinity"),
};
#else
static const aglm_param_spec bounded[] = {
    AGLM_PARAM_FLOAT_RANGE_SPEC("eps", 0.0, 0.0, INFINITY, AGLM_OPEN_MIN, "default on the excluded bound"),
};
#endif

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static int one;
    (void)ctx;
    (void)p;
    (void)info;
    (void)layout;
    *instance = &one;
    return AGLM_OK;
}

static void destroy(void *instance) { (void)instance; }

static aglm_status on_event(void *instance, aglm_ctx *ctx, aglm_event event, const aglm_trainer_state *state,
                            aglm_control *control) {
    (void)instance; (void)ctx; (void)event; (void)state; (void)control;
    return AGLM_OK;
}

static const aglm_callback_vtable vtable = {sizeof(aglm_callback_vtable), on_event};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d = aglm_component(AGLM_KIND_CALLBACK, "bounded", "exclusive bounds (test fixture)", "1.0.0",
                                           AGLM_SCHEMA(bounded), create, destroy, &vtable);
    aglm_status st;
    host = h;
    st = host->register_component(ctx, &d);
#ifndef BAD
    if (st == AGLM_OK) {
        d = aglm_component(AGLM_KIND_CALLBACK, "legacy", "a 1.0-sized spec (test fixture)", "1.0.0",
                           AGLM_SCHEMA(legacy), create, destroy, &vtable);
        st = host->register_component(ctx, &d);
    }
#endif
    return st;
}

AGLM_DEFINE_PLUGIN("exclusive-bounds", "1.0.0", init);
