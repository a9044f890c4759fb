/*
 * Test fixture: autoglm.h (with the plugin.h it includes) compiles warning-free as C99
 * (cc -std=c99 -Wall -Wextra -pedantic -Werror -c). Touches every struct and callback type.
 */
#include <autoglm/autoglm.h>

static int32_t on_progress(void *user, const aglm_progress *p) {
    (void)user;
    return p->kind == AGLM_PROGRESS_EVALUATION && p->metric_count > 0 ? AGLM_STOP : AGLM_CONTINUE;
}

static void on_log(void *user, aglm_log_level level, const char *message) {
    (void)user, (void)level, (void)message;
}

static int32_t on_text(void *user, const char *piece) {
    (void)user;
    return piece[0] == '.' ? AGLM_STOP : AGLM_CONTINUE;
}

static double half(double x) { return x / 2; }

int header_check(void);
int header_check(void) {
    aglm_session_options o;
    aglm_sample_options so;
    aglm_train_result r;
    aglm_component_info ci;
    aglm_function_entry fe;
    aglm_function_decl fd;
    const aglm_function_decl *functions[1];
    aglm_session *s = NULL;
    const char *text = NULL;
    aglm_status st = aglm_session_options_init(&o, AGLM_API_VERSION);
    (void)aglm_function_decl_init(&fd, AGLM_API_VERSION);
    fd.prototype = "double half(double x)";
    fd.fn = (void (*)(void))half;
    functions[0] = &fd;
    o.functions = functions;
    o.function_count = 1;
    o.progress = on_progress;
    o.log = on_log;
    o.data = AGLM_DATA_TEXT;
    (void)aglm_sample_options_init(&so, AGLM_API_VERSION);
    (void)aglm_train_result_init(&r, AGLM_API_VERSION);
    (void)aglm_component_info_init(&ci, AGLM_API_VERSION);
    (void)aglm_function_entry_init(&fe, AGLM_API_VERSION);
    so.on_text = on_text;
    if (st == AGLM_OK && aglm_session_create(&o, &s) == AGLM_OK) {
        (void)aglm_session_train(s, AGLM_TRAIN_REMAINING, &r);
        (void)aglm_session_sample(s, &so, &text);
        (void)aglm_session_free(s);
    }
    return (int)(aglm_api_version() >> 16) + (aglm_host_api_table() != NULL) + (int)(aglm_last_error()[0]) +
           (int)aglm_status_name(AGLM_ERR_BUSY)[0] + (int)aglm_version_string()[0];
}
