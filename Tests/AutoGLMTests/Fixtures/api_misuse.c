/*
 * Test program: every function of autoglm.h called with NULL, garbage, freed and out-of-range
 * arguments, wrong struct sizes and versions, and from where it is not allowed (a callback
 * inside the session, another thread while one is inside). Each call must return the
 * documented status with a message, never crash.
 *
 *   api_misuse RUN_ROOT
 *
 * Prints "ok N checks" and exits 0, or prints each failed check and exits 1.
 */
#include <autoglm/autoglm.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;

/* `call` returns `status`; a failure leaves a message naming the function. */
#define EXPECT(status, call)                                                                      \
    do {                                                                                          \
        aglm_status got_ = (call);                                                                \
        ++checks;                                                                                 \
        if (got_ != (status) || (got_ != AGLM_OK && strstr(aglm_last_error(), "aglm_") == NULL)) { \
            ++failures;                                                                           \
            fprintf(stderr, "FAIL (line %d): %s returned %s, expected %s [%s]\n", __LINE__, #call, \
                    aglm_status_name(got_), aglm_status_name(status), aglm_last_error());         \
        }                                                                                         \
    } while (0)

#define CHECK(cond, what)                                                                         \
    do {                                                                                          \
        ++checks;                                                                                 \
        if (!(cond)) {                                                                            \
            ++failures;                                                                           \
            fprintf(stderr, "FAIL (line %d): %s [%s]\n", __LINE__, what, aglm_last_error());      \
        }                                                                                         \
    } while (0)

static char run_root[3000];
static char text[4000];

/* A small session on text of its own (run_dir/name), with `progress` if given. */
static aglm_session *tiny(const char *name, aglm_progress_fn progress, void *user) {
    char dir[4096];
    const char *overrides[1];
    aglm_session_options o;
    aglm_session *s = NULL;
    snprintf(dir, sizeof dir, "run.dir=%s/%s", run_root, name);
    overrides[0] = dir;
    aglm_session_options_init(&o, AGLM_API_VERSION);
    o.config_text = "model: {n_layer: 1, n_head: 1, n_embd: 8, block_size: 8}\n"
                    "train: {steps: 3, batch_size: 2, eval_interval: 0, eval_batches: 1, warmup_steps: 0}\n";
    o.overrides = overrides;
    o.override_count = 1;
    o.data = AGLM_DATA_TEXT;
    o.data_text = text;
    o.overwrite = 1;
    o.progress = progress;
    o.progress_user_data = user;
    EXPECT(AGLM_OK, aglm_session_create(&o, &s));
    return s;
}

/* Every function taking a session, given `s` (NULL, garbage or freed): AGLM_ERR_HANDLE. */
static void refuses_handle(aglm_session *s) {
    int64_t i64;
    double d;
    size_t n;
    const char *str;
    aglm_view view;
    aglm_train_result result;
    aglm_sample_options so;
    aglm_component_info info;
    aglm_param_spec spec;
    aglm_function_entry entry;
    view.struct_size = sizeof view, spec.struct_size = sizeof spec;
    aglm_train_result_init(&result, AGLM_API_VERSION);
    aglm_sample_options_init(&so, AGLM_API_VERSION);
    aglm_component_info_init(&info, AGLM_API_VERSION);
    aglm_function_entry_init(&entry, AGLM_API_VERSION);
    so.prompt = "a";
    EXPECT(AGLM_ERR_HANDLE, aglm_session_free(s));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_request_stop(s));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_train(s, 1, &result));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_evaluate(s, &n));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_metric_count(s, &n));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_metric(s, 0, &str, &d));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_step(s, &i64));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_loss(s, &d));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_lr(s, &d));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_parameter_count(s, &i64));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_run_dir(s, &str));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_tensor_count(s, &n));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_tensor_name(s, 0, &str));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_parameter(s, "token_embedding", &view));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_sample(s, &so, &str));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_save(s, "/tmp/x"));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_load(s, "/tmp/x", 0));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_component_count(s, &n));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_component(s, 0, &info));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_component_param(s, 0, 0, &spec));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_function_count(s, &n));
    EXPECT(AGLM_ERR_HANDLE, aglm_session_function(s, 0, &entry));
}

/* The library-wide functions and the `_init` functions. */
static void library_functions(void) {
    aglm_session_options o;
    aglm_sample_options so;
    aglm_function_decl fd;
    aglm_train_result r;
    aglm_component_info ci;
    aglm_function_entry fe;
    const uint32_t other_major = 2u << 16, newer_minor = AGLM_API_VERSION + 99, old_major = 0;
    CHECK(aglm_api_version() == AGLM_API_VERSION, "aglm_api_version is the header's");
    CHECK(aglm_version_string() != NULL && aglm_version_string()[0] != '\0', "aglm_version_string");
    CHECK(aglm_host_api_table() != NULL && aglm_host_api_table()->struct_size == sizeof(aglm_host_api), "the host API table");
    CHECK(strcmp(aglm_status_name(AGLM_ERR_BUSY), "AGLM_ERR_BUSY") == 0, "aglm_status_name");
    CHECK(strcmp(aglm_status_name(12345), "AGLM_ERR_UNKNOWN") == 0 && strcmp(aglm_status_name(-1), "AGLM_ERR_UNKNOWN") == 0,
          "aglm_status_name of garbage");
    CHECK(aglm_last_error() != NULL && aglm_last_error()[0] == '\0', "no error yet");

    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_options_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_sample_options_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_function_decl_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_train_result_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_component_info_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_function_entry_init(NULL, AGLM_API_VERSION));
    EXPECT(AGLM_ERR_VERSION, aglm_session_options_init(&o, other_major));
    {
        char mine[32];
        snprintf(mine, sizeof mine, "%d.%d", AGLM_API_MAJOR, AGLM_API_MINOR);
        CHECK(strstr(aglm_last_error(), "2.0") != NULL && strstr(aglm_last_error(), mine) != NULL,
              "the message says both versions");
    }
    EXPECT(AGLM_ERR_VERSION, aglm_session_options_init(&o, newer_minor));
    EXPECT(AGLM_ERR_VERSION, aglm_session_options_init(&o, old_major));
    EXPECT(AGLM_ERR_VERSION, aglm_sample_options_init(&so, other_major));
    EXPECT(AGLM_ERR_VERSION, aglm_function_decl_init(&fd, newer_minor));
    EXPECT(AGLM_ERR_VERSION, aglm_train_result_init(&r, other_major));
    EXPECT(AGLM_ERR_VERSION, aglm_component_info_init(&ci, newer_minor));
    EXPECT(AGLM_ERR_VERSION, aglm_function_entry_init(&fe, other_major));
    EXPECT(AGLM_OK, aglm_session_options_init(&o, AGLM_API_VERSION));
    CHECK(o.struct_size == sizeof o && o.bundled_plugins == 1 && o.config_file == NULL, "options defaults");
    EXPECT(AGLM_OK, aglm_sample_options_init(&so, AGLM_API_VERSION));
    CHECK(so.tokens == 200 && so.temperature == 0.8 && so.seed == 1337 && so.prompt == NULL, "sample defaults");
}

/* aglm_session_create with bad options. */
static double half(double x) { return x / 2; }
static void bad_options(void) {
    aglm_session_options o;
    aglm_session *s = NULL;
    const char *one_null[1] = {NULL};
    const aglm_component_desc *no_desc[1] = {NULL};
    aglm_component_desc sizeless;
    const aglm_component_desc *sizeless_list[1] = {&sizeless};
    aglm_function_decl fd;
    const aglm_function_decl *fds[1] = {&fd};
    memset(&sizeless, 0, sizeof sizeless);

    aglm_session_options_init(&o, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(NULL, &s));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, NULL));
    o.struct_size = 0;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    o.struct_size = 8;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    CHECK(s == NULL, "no handle written on failure");
#define FRESH() aglm_session_options_init(&o, AGLM_API_VERSION)
    FRESH(), o.config_file = "a.yaml", o.config_text = "train: {steps: 1}\n";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.override_count = 3;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.overrides = one_null, o.override_count = 1;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    CHECK(strstr(aglm_last_error(), "overrides[0] is NULL") != NULL, "names the NULL item");
    FRESH(), o.overrides = one_null, o.override_count = (size_t)1 << 40;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.plugin_dirs = one_null, o.plugin_dir_count = 1;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.data = 7;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.data = AGLM_DATA_TEXT;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.checkpoint = "newest";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.components = no_desc, o.component_count = 1;
    EXPECT(AGLM_ERR_PLUGIN, aglm_session_create(&o, &s));
    FRESH(), o.components = sizeless_list, o.component_count = 1;
    EXPECT(AGLM_ERR_PLUGIN, aglm_session_create(&o, &s));
    CHECK(strstr(aglm_last_error(), "struct_size") != NULL, "names the descriptor's struct_size");
    FRESH(), o.functions = fds, o.function_count = 1;
    aglm_function_decl_init(&fd, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    fd.prototype = "double half(double x)";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    fd.fn = (void (*)(void))half, fd.prototype = "double half(struct x y)";
    EXPECT(AGLM_ERR_PLUGIN, aglm_session_create(&o, &s));
    fd.struct_size = 1;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_create(&o, &s));
    FRESH(), o.config_text = "trian: {steps: 1}\n";
    EXPECT(AGLM_ERR_CONFIG, aglm_session_create(&o, &s));
    CHECK(strstr(aglm_last_error(), "trian") != NULL, "names the unknown key");
    FRESH(), o.config_file = "/nonexistent/autoglm.yaml";
    EXPECT(AGLM_ERR_CONFIG, aglm_session_create(&o, &s));
    FRESH(), o.config_text = "train: {steps: 1}\n", o.data = AGLM_DATA_TEXT, o.data_text = "";
    EXPECT(AGLM_ERR_CONFIG, aglm_session_create(&o, &s));
    FRESH(), o.resume = "/nonexistent/run";
    EXPECT(AGLM_ERR_CHECKPOINT, aglm_session_create(&o, &s));
    CHECK(s == NULL, "no handle written on failure");
#undef FRESH
}

/* Arguments of a live session's functions. */
static void bad_arguments(aglm_session *s) {
    int64_t i64;
    double d;
    size_t n, tensors = 0;
    const char *str;
    aglm_view view;
    aglm_train_result result;
    aglm_sample_options so;
    aglm_component_info info;
    aglm_param_spec spec;
    aglm_function_entry entry;
    char path[4096];
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_step(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_loss(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_lr(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_parameter_count(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_run_dir(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_tensor_count(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_metric_count(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component_count(s, NULL));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_function_count(s, NULL));
    EXPECT(AGLM_OK, aglm_session_step(s, &i64));
    CHECK(i64 == 0, "step 0 before training");
    EXPECT(AGLM_OK, aglm_session_loss(s, &d));
    CHECK(isnan(d), "loss NaN before the first step");
    EXPECT(AGLM_OK, aglm_session_lr(s, &d));
    EXPECT(AGLM_OK, aglm_session_parameter_count(s, &i64));
    CHECK(i64 > 0, "parameters");
    EXPECT(AGLM_OK, aglm_session_run_dir(s, &str));
    CHECK(strstr(str, run_root) == str, "the run directory");

    EXPECT(AGLM_OK, aglm_session_tensor_count(s, &tensors));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_tensor_name(s, tensors, &str));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_tensor_name(s, (size_t)-1, &str));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_tensor_name(s, 0, NULL));
    view.struct_size = sizeof view;
    EXPECT(AGLM_OK, aglm_session_tensor_name(s, 0, &str));
    EXPECT(AGLM_OK, aglm_session_parameter(s, str, &view));
    CHECK(view.ndim >= 1 && view.dtype.code == AGLM_DTYPE_FLOAT && view.dtype.bits == 32 &&
              view.strides[view.ndim - 1] == 1,
          "a dense float32 view");
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_parameter(s, "no.such.weight", &view));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_parameter(s, NULL, &view));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_parameter(s, str, NULL));
    view.struct_size = 4;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_parameter(s, str, &view));

    EXPECT(AGLM_OK, aglm_session_metric_count(s, &n));
    CHECK(n == 0, "no metrics before an evaluation");
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_metric(s, 0, &str, &d));

    EXPECT(AGLM_OK, aglm_session_component_count(s, &n));
    aglm_component_info_init(&info, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component(s, n, &info));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component(s, 0, NULL));
    info.struct_size = 3;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component(s, 0, &info));
    spec.struct_size = sizeof spec;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component_param(s, n, 0, &spec));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component_param(s, 0, 1000, &spec));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component_param(s, 0, 0, NULL));
    spec.struct_size = 0;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_component_param(s, 0, 0, &spec));
    EXPECT(AGLM_OK, aglm_session_function_count(s, &n));
    aglm_function_entry_init(&entry, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_function(s, n, &entry));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_function(s, 0, NULL));
    entry.struct_size = 0;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_function(s, 0, &entry));

    aglm_train_result_init(&result, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_train(s, -2, &result));
    result.struct_size = 2;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_train(s, 1, &result));
    EXPECT(AGLM_OK, aglm_session_step(s, &i64));
    CHECK(i64 == 0, "a refused train did not train");

    aglm_sample_options_init(&so, AGLM_API_VERSION);
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.prompt = "";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.prompt = "h";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, NULL, &str));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, NULL));
    so.tokens = -1;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.tokens = 5, so.temperature = 0;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.temperature = NAN;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.temperature = 1, so.top_k = -3;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.top_k = 0, so.prompt = "\xe2\x82\xac";
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    CHECK(strstr(aglm_last_error(), "vocabulary") != NULL, "names the vocabulary");
    so.prompt = "h", so.struct_size = 1;
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_sample(s, &so, &str));
    so.struct_size = sizeof so;
    EXPECT(AGLM_OK, aglm_session_sample(s, &so, &str));
    CHECK(strlen(str) == 5, "five characters sampled");

    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_save(s, NULL));
    EXPECT(AGLM_ERR_CHECKPOINT, aglm_session_save(s, "/proc/autoglm/ckpt"));
    EXPECT(AGLM_ERR_INVALID_ARGUMENT, aglm_session_load(s, NULL, 0));
    EXPECT(AGLM_ERR_CHECKPOINT, aglm_session_load(s, "/nonexistent/ckpt", 0));
    snprintf(path, sizeof path, "%s/ckpt", run_root);
    EXPECT(AGLM_OK, aglm_session_save(s, path));
    EXPECT(AGLM_OK, aglm_session_load(s, path, 0));
    EXPECT(AGLM_OK, aglm_session_evaluate(s, NULL));
    EXPECT(AGLM_OK, aglm_session_metric(s, 0, NULL, NULL));
}

/* --- calls from where they are not allowed ------------------------------------------------ */
typedef struct inside {
    aglm_session *session;
    int done;
} inside;

static void *from_another_thread(void *arg) {
    double lr;
    EXPECT(AGLM_ERR_BUSY, aglm_session_lr(((inside *)arg)->session, &lr));
    CHECK(strstr(aglm_last_error(), "another thread") != NULL, "says another thread is inside");
    return NULL;
}

static int32_t misbehave(void *user, const aglm_progress *p) {
    inside *in = (inside *)user;
    int64_t step;
    pthread_t other;
    if (p->kind != AGLM_PROGRESS_STEP || in->done) return AGLM_CONTINUE;
    in->done = 1;
    EXPECT(AGLM_ERR_BUSY, aglm_session_step(in->session, &step));
    CHECK(strstr(aglm_last_error(), "callback") != NULL, "says it is a callback inside the session");
    EXPECT(AGLM_ERR_BUSY, aglm_session_free(in->session));
    EXPECT(AGLM_ERR_BUSY, aglm_session_train(in->session, 1, NULL));
    EXPECT(AGLM_OK, aglm_session_request_stop(in->session));
    CHECK(pthread_create(&other, NULL, from_another_thread, in) == 0, "thread");
    pthread_join(other, NULL);
    return AGLM_CONTINUE;
}

int main(int argc, char **argv) {
    int i, local = 0;
    int64_t step;
    inside in = {NULL, 0};
    aglm_session *s, *freed;
    aglm_train_result result;
    size_t n;
    const char *message;
    if (argc != 2) return 2;
    snprintf(run_root, sizeof run_root, "%s", argv[1]);
    for (i = 0; i < 300; ++i) memcpy(text + 13 * i, "hello world. ", 13);

    library_functions();
    refuses_handle(NULL);
    refuses_handle((aglm_session *)&local);
    refuses_handle((aglm_session *)(uintptr_t)0x1);
    refuses_handle((aglm_session *)(uintptr_t)0xdeadbeef);
    bad_options();

    s = tiny("live", NULL, NULL);
    bad_arguments(s);
    message = aglm_last_error();
    EXPECT(AGLM_OK, aglm_session_step(s, &step));
    CHECK(aglm_last_error() == message, "a success leaves the last error as it was");
    EXPECT(AGLM_OK, aglm_session_free(s));
    refuses_handle(s);

    freed = tiny("freed", NULL, NULL);
    EXPECT(AGLM_OK, aglm_session_free(freed));
    s = tiny("after", NULL, NULL);
    CHECK(s != freed, "a freed handle is not reused");
    refuses_handle(freed);
    EXPECT(AGLM_OK, aglm_session_free(s));

    s = tiny("inside", misbehave, &in);
    in.session = s;
    aglm_train_result_init(&result, AGLM_API_VERSION);
    EXPECT(AGLM_OK, aglm_session_train(s, 3, &result));
    CHECK(in.done && result.steps == 1 && result.stopped_early == 1, "the callback's stop request ended training at step 1");
    EXPECT(AGLM_OK, aglm_session_free(s));

    {
        aglm_session_options o;
        char dir[4096];
        aglm_session_options_init(&o, AGLM_API_VERSION);
        snprintf(dir, sizeof dir, "%s/ckpt", run_root);
        o.resume = dir;
        o.data = AGLM_DATA_NONE;
        EXPECT(AGLM_OK, aglm_session_create(&o, &s));
        EXPECT(AGLM_ERR_CONFIG, aglm_session_train(s, 1, NULL));
        EXPECT(AGLM_ERR_CONFIG, aglm_session_evaluate(s, &n));
        EXPECT(AGLM_OK, aglm_session_free(s));
    }

    if (failures > 0) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
