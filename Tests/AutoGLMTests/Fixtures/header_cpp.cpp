/*
 * Test fixture: plugin.h and helpers.h compile warning-free as C++11
 * (c++ -std=c++11 -Wall -Wextra -pedantic -Werror -c), so plugins may be written in C++.
 * Defines a small but complete optimizer plugin (plain SGD) with the helpers.
 */
#include <autoglm/helpers.h>

#include <cstdlib>

namespace {

const aglm_host_api *host = NULL;

const aglm_param_spec params[] = {
    AGLM_PARAM_FLOAT_SPEC("momentum", 0.0, 0.0, 1.0, "unused here"),
    AGLM_PARAM_BOOL_SPEC("nesterov", 0, "unused here"),
};

struct Sgd {
    double momentum;
};

aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *, void *, void **out) {
    Sgd *self = static_cast<Sgd *>(aglm_calloc(host, ctx, sizeof(Sgd)));
    if (self == NULL) return AGLM_ERR_OUT_OF_MEMORY;
    self->momentum = aglm_param_f64(host, p, "momentum");
    *out = self;
    return AGLM_OK;
}

void destroy(void *instance) { std::free(instance); }

aglm_status declare_state(void *, aglm_ctx *ctx, const aglm_param_info *param,
                          aglm_state_decl *decls, size_t capacity, size_t *count) {
    if (capacity < 1) return aglm_errorf(host, ctx, AGLM_ERR_INTERNAL, "capacity %zu", capacity);
    *count = 1;
    return aglm_state_like(host, ctx, &decls[0], "momentum_buffer", param);
}

aglm_status step(void *, aglm_ctx *ctx, const aglm_optim_step *args) {
    aglm_status st = aglm_check_view(host, ctx, args->value, args->param->name, AGLM_DTYPE_FLOAT, -1);
    if (st != AGLM_OK) return st;
    float *AGLM_RESTRICT p = static_cast<float *>(args->value->data);
    const float *AGLM_RESTRICT g = static_cast<const float *>(args->grad->data);
    const float lr = static_cast<float>(args->lr);
    for (int64_t i = 0, n = aglm_view_numel(args->value); i < n; ++i)
        p[i] -= lr * g[i] / (AGLM_SQRTF(1.0f) + 0.0f);
    return AGLM_OK;
}

const aglm_optimizer_vtable vtable = {sizeof(aglm_optimizer_vtable), declare_state, NULL, step};

aglm_status init(const aglm_host_api *h, aglm_ctx *ctx) {
    host = h;
    aglm_component_desc d = aglm_component(AGLM_KIND_OPTIMIZER, "header_cpp_sgd", "header check",
                                           "1.0.0", AGLM_SCHEMA(params), create, destroy, &vtable);
    return host->register_component(ctx, &d);
}

} // namespace

AGLM_DEFINE_PLUGIN("header-cpp", "1.0.0", init);
