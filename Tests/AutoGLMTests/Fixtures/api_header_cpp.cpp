/*
 * Test fixture: autoglm.h compiles warning-free as C++17
 * (c++ -std=c++17 -Wall -Wextra -pedantic -Werror -c), so C++ programs embed AutoGLM directly.
 */
#include <autoglm/autoglm.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

/** A session owned by a C++ object: freed by its destructor. */
class Session {
public:
    explicit Session(const std::string &config) {
        aglm_session_options o;
        if (aglm_session_options_init(&o, AGLM_API_VERSION) != AGLM_OK) return;
        o.config_text = config.c_str();
        o.progress = [](void *, const aglm_progress *p) -> int32_t { return p->step >= 10 ? AGLM_STOP : AGLM_CONTINUE; };
        if (aglm_session_create(&o, &session_) != AGLM_OK) std::fprintf(stderr, "%s\n", aglm_last_error());
    }
    ~Session() { aglm_session_free(session_); }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    std::vector<std::string> metricNames() const {
        std::vector<std::string> names;
        size_t count = 0;
        if (aglm_session_metric_count(session_, &count) != AGLM_OK) return names;
        for (size_t i = 0; i < count; ++i) {
            const char *name = nullptr;
            if (aglm_session_metric(session_, i, &name, nullptr) == AGLM_OK) names.emplace_back(name);
        }
        return names;
    }

private:
    aglm_session *session_ = nullptr;
};

} // namespace

int header_check_cpp();
int header_check_cpp() {
    Session s("train: {steps: 20}\n");
    aglm_view view{};
    view.struct_size = sizeof view;
    aglm_param_spec spec{};
    spec.struct_size = sizeof spec;
    return static_cast<int>(s.metricNames().size()) + static_cast<int>(AGLM_API_MAJOR) + static_cast<int>(view.ndim + spec.type);
}
