/*
 * Test fixture: plugin.h and helpers.h compile warning-free as C99
 * (cc -std=c99 -Wall -Wextra -pedantic -Werror -c). Uses a sample of the helpers.
 */
#include <autoglm/helpers.h>

static const aglm_host_api *host;

static const char *const modes[] = {"fast", "exact", NULL};
static const double defaults[2] = {0.5, 0.25};

static const aglm_param_spec params[] = {
    AGLM_PARAM_FLOAT_SPEC("alpha", 0.5, 0.0, 1.0, "a float"),
    AGLM_PARAM_INT_SPEC("n", 3, 1, 100, "an int"),
    AGLM_PARAM_BOOL_SPEC("on", 1, "a bool"),
    AGLM_PARAM_STRING_SPEC("path", "out.txt", "a string"),
    AGLM_PARAM_CHOICE_SPEC("mode", "fast", modes, "a choice"),
    AGLM_PARAM_FLOAT_LIST_SPEC("pair", defaults, 2, -INFINITY, INFINITY, "a list"),
};

typedef struct instance {
    double alpha;
    int64_t n;
    int on;
    char *path;
} instance;

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout,
                          void **out) {
    instance *self = (instance *)aglm_calloc(host, ctx, sizeof *self);
    double pair[2];
    (void)info;
    (void)layout;
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->alpha = aglm_param_f64(host, p, "alpha");
    self->n = aglm_param_i64(host, p, "n");
    self->on = aglm_param_bool(host, p, "on");
    self->path = aglm_strdup(host, ctx, aglm_param_str(host, p, "path"));
    if (aglm_param_list(host, p, "pair", pair, 2) != 2 || self->path == NULL) {
        free(self->path);
        free(self);
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "bad %s", "pair");
    }
    aglm_logf(host, ctx, AGLM_LOG_DEBUG, "alpha=%g n=%lld", self->alpha, (long long)self->n);
    *out = self;
    return AGLM_OK;
}

static void destroy(void *p) {
    instance *self = (instance *)p;
    free(self->path);
    free(self);
}

static aglm_status reset(void *p, aglm_ctx *ctx) {
    (void)p;
    (void)ctx;
    return AGLM_OK;
}

static aglm_status update(void *p, aglm_ctx *ctx, const aglm_view *logits, const aglm_view *targets) {
    aglm_status st;
    (void)p;
    if ((st = aglm_check_view(host, ctx, logits, "logits", AGLM_DTYPE_FLOAT, 2)) != AGLM_OK) return st;
    if (!aglm_view_is_i32(targets) || !aglm_view_is_contiguous(targets) || aglm_view_is_f32(targets))
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "targets: %lld elements",
                           (long long)aglm_view_numel(targets));
    return AGLM_OK;
}

static aglm_status compute(void *p, aglm_ctx *ctx) {
    (void)p;
    host->emit_metric(ctx, "zero", (double)AGLM_SQRTF(0.0f));
    return AGLM_OK;
}

static const aglm_evaluator_vtable vtable = {sizeof(aglm_evaluator_vtable), reset, update, compute};

static aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    aglm_component_desc d;
    host = h;
    d = aglm_component(AGLM_KIND_EVALUATOR, "header_c_metric", "header check", "1.0.0",
                       AGLM_SCHEMA(params), create, destroy, &vtable);
    return host->register_component(ctx, &d);
}

AGLM_DEFINE_PLUGIN("header-c", "1.0.0", init);
