/*
 * Test program: in-process components and functions through the C API.
 *
 *   api_inprocess CORPUS RUN_ROOT
 *
 * Registers an attention ("my_dense", composed of the host API table's ops exactly as the
 * bundled causal_dense plugin composes them), an optimizer ("my_sgd", p -= lr * g, counting its
 * calls) and functions by prototype ("my_half", and "my_lr", a learning-rate schedule), then checks:
 *  - my_dense + the bundled sgd give bit-identical losses to causal_dense + sgd (the in-process
 *    attention receives the same host API and is recorded on the same tape);
 *  - my_dense + my_sgd trains (loss falls), matches the plugin run to 1e-5, and the optimizer
 *    was called as the ABI says (declare_state once per tensor, step per tensor per step, with
 *    the lr the progress callback reports); its host->log lines reach the session's log
 *    callback;
 *  - sampling is deterministic and streams: a stop after ten pieces gives their text, the
 *    first ten characters of the full sample;
 *  - the session lists the program's components (kind, owner, path, schema) and function;
 *  - my_lr bound as train.lr_schedule drives a training: the lr of every step is its formula
 *    (the test also reads it from RUN_ROOT/schedule/log.jsonl, logged at every step);
 *  - a program component named like a loaded plugin's is refused, naming both.
 * Prints "ok N checks" and exits 0, or prints each failed check and exits 1.
 */
#include <autoglm/autoglm.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;
#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        ++checks;                                                             \
        if (!(cond)) {                                                        \
            ++failures;                                                       \
            fprintf(stderr, "FAIL (line %d): ", __LINE__);                    \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, " [last error: %s]\n", aglm_last_error());        \
        }                                                                     \
    } while (0)

#define STEPS 16
static const aglm_host_api *host;

/* --- my_dense: causal_dense's four ops ---------------------------------------------------- */
static aglm_status dense_create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout,
                                void **instance) {
    static double scale;
    const aglm_attention_info *ai = (const aglm_attention_info *)info;
    (void)p, (void)layout;
    if (!AGLM_HAS_FIELD(ai, aglm_attention_info, head_dim)) {
        host->set_error(ctx, "no attention info");
        return AGLM_ERR_INVALID_ARGUMENT;
    }
    scale = 1.0 / sqrt((double)ai->head_dim);
    *instance = &scale;
    return AGLM_OK;
}
static void no_destroy(void *instance) { (void)instance; }
static aglm_tensor *dense_forward(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k, aglm_tensor *v) {
    aglm_tensor *scores = host->matmul(ctx, q, k, 0, 1);
    aglm_tensor *scaled = host->affine(ctx, scores, *(const double *)instance, 0.0);
    aglm_tensor *probs = host->softmax(ctx, scaled, AGLM_MASK_CAUSAL);
    return host->matmul(ctx, probs, v, 0, 0);
}
static const aglm_attention_vtable dense_vtable = {sizeof(aglm_attention_vtable), dense_forward, NULL, NULL, NULL, NULL};
static const aglm_component_desc my_dense = {sizeof(aglm_component_desc), AGLM_KIND_ATTENTION, "my_dense",
    "causal_dense, in-process", "0.1.0", NULL, 0, dense_create, no_destroy, NULL, NULL, &dense_vtable};

/* --- my_sgd: p -= lr * g, counting calls --------------------------------------------------- */
static long declared, stepped, begun;
static double lr_sum_begin;
static const aglm_param_spec sgd_params[] = {{sizeof(aglm_param_spec), "gain", AGLM_PARAM_FLOAT,
    "multiplies the learning rate", 1.0, NULL, NULL, 0, 0.0, 10.0, NULL, 0, 0, 0}};
static aglm_status sgd_create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout, void **instance) {
    static double gain;
    (void)ctx, (void)info, (void)layout;
    gain = host->param_number(p, "gain");
    *instance = &gain;
    return AGLM_OK;
}
static aglm_status sgd_declare(void *instance, aglm_ctx *ctx, const aglm_param_info *param, aglm_state_decl *decls,
                               size_t capacity, size_t *count) {
    (void)instance, (void)ctx, (void)param, (void)decls, (void)capacity;
    ++declared;
    *count = 0;
    return AGLM_OK;
}
static aglm_status sgd_begin(void *instance, aglm_ctx *ctx, int64_t step, double lr) {
    (void)instance, (void)step;
    ++begun;
    lr_sum_begin += lr;
    host->log(ctx, AGLM_LOG_INFO, "begins a step");
    return AGLM_OK;
}
static aglm_status sgd_step(void *instance, aglm_ctx *ctx, const aglm_optim_step *a) {
    const float neg_lr = (float)(-a->lr * *(const double *)instance);
    float *p = (float *)a->value->data;
    const float *g = (const float *)a->grad->data;
    int64_t i;
    (void)ctx;
    for (i = 0; i < a->param->numel; ++i) p[i] = fmaf(neg_lr, g[i], p[i]);
    ++stepped;
    return AGLM_OK;
}
static const aglm_optimizer_vtable sgd_vtable = {sizeof(aglm_optimizer_vtable), sgd_declare, sgd_begin, sgd_step};
static const aglm_component_desc my_sgd = {sizeof(aglm_component_desc), AGLM_KIND_OPTIMIZER, "my_sgd",
    "plain SGD, in-process", "0.2.0", sgd_params, 1, sgd_create, no_destroy, NULL, NULL, &sgd_vtable};
static const aglm_component_desc clashing = {sizeof(aglm_component_desc), AGLM_KIND_OPTIMIZER, "sgd",
    "named like the bundled plugin", "0.0.1", NULL, 0, sgd_create, no_destroy, NULL, NULL, &sgd_vtable};

static double my_half(double x) { return x / 2; }

/* A linear decay to a floor, by the step (0-based) and optimizer.lr. */
static double my_lr(int64_t step, double base_lr, double floor) {
    return fmax(floor, base_lr * (1.0 - (double)step / 16.0));
}

/* --- running a configuration -------------------------------------------------------------- */
typedef struct run {
    double loss[STEPS + 1];
    double lr[STEPS + 1];
    double lr_sum;
    int steps;
} run;

/* Counts the log lines of my_sgd, at level info, as host->log attributes them. */
static long logged;
static void count_log(void *user, aglm_log_level level, const char *message) {
    (void)user;
    if (level == AGLM_LOG_INFO && strcmp(message, "my_sgd: begins a step") == 0) ++logged;
}

static int32_t record(void *user, const aglm_progress *p) {
    run *r = (run *)user;
    if (p->kind == AGLM_PROGRESS_STEP && p->step <= STEPS) {
        r->loss[p->step] = p->loss;
        r->lr[p->step] = p->lr;
        r->lr_sum += p->lr;
        r->steps = (int)p->step;
    }
    return AGLM_CONTINUE;
}

static const char *config =
    "model: {n_layer: 2, n_head: 2, n_embd: 32, block_size: 16}\n"
    "train: {steps: 16, batch_size: 8, warmup_steps: 2, eval_interval: 0, eval_batches: 2, seed: 3, grad_clip: 0}\n"
    "optimizer: {lr: 0.3}\n";

/* Creates a session of `config` with `attention` and `optimizer` and the overrides `more` (NULL
 * or NULL-terminated), registering the program's components and functions; trains it fully into
 * `out` when `out` is not NULL. Returns the session. */
static aglm_session *session(const char *corpus, const char *dir, const char *attention, const char *optimizer,
                             const aglm_component_desc *extra, const char *const *more, run *out) {
    char o1[4096], o2[4096], o3[256], o4[256];
    const char *overrides[8];
    size_t override_count = 4;
    const aglm_component_desc *components[3];
    aglm_function_decl half, lr;
    const aglm_function_decl *functions[2];
    aglm_session_options o;
    aglm_session *s = NULL;
    snprintf(o1, sizeof o1, "data.path=%s", corpus);
    snprintf(o2, sizeof o2, "run.dir=%s", dir);
    snprintf(o3, sizeof o3, "attention.name=%s", attention);
    snprintf(o4, sizeof o4, "optimizer.name=%s", optimizer);
    overrides[0] = o1, overrides[1] = o2, overrides[2] = o3, overrides[3] = o4;
    while (more != NULL && *more != NULL && override_count < 8) overrides[override_count++] = *more++;
    components[0] = &my_dense, components[1] = &my_sgd, components[2] = extra;
    aglm_function_decl_init(&half, AGLM_API_VERSION);
    half.prototype = "double my_half(double x)";
    half.fn = (void (*)(void))my_half;
    half.doc = "x / 2";
    functions[0] = &half;
    aglm_function_decl_init(&lr, AGLM_API_VERSION);
    lr.prototype = "double my_lr(int64_t step, double base_lr, double floor)";
    lr.fn = (void (*)(void))my_lr;
    lr.doc = "linear decay to a floor";
    functions[1] = &lr;
    aglm_session_options_init(&o, AGLM_API_VERSION);
    o.config_text = config;
    o.overrides = overrides;
    o.override_count = override_count;
    o.components = components;
    o.component_count = extra != NULL ? 3 : 2;
    o.functions = functions;
    o.function_count = 2;
    o.owner = "api_inprocess.c";
    o.overwrite = 1;
    o.progress = record;
    o.progress_user_data = out;
    o.log = count_log;
    if (aglm_session_create(&o, &s) != AGLM_OK) return NULL;
    if (out != NULL) {
        memset(out, 0, sizeof *out);
        CHECK(aglm_session_train(s, AGLM_TRAIN_REMAINING, NULL) == AGLM_OK, "train %s + %s", attention, optimizer);
    }
    return s;
}

/* Streams: collects pieces, stops after ten. */
typedef struct stream {
    char text[64];
    int pieces;
} stream;
static int32_t collect(void *user, const char *piece) {
    stream *st = (stream *)user;
    strncat(st->text, piece, sizeof st->text - strlen(st->text) - 1);
    return ++st->pieces == 10 ? AGLM_STOP : AGLM_CONTINUE;
}

/* Checks sampling: deterministic, streamed, stopped early by the stream. */
static void check_sampling(aglm_session *s) {
    aglm_sample_options o;
    const char *text;
    char full[64];
    stream st;
    memset(&st, 0, sizeof st);
    aglm_sample_options_init(&o, AGLM_API_VERSION);
    o.prompt = "the ";
    o.tokens = 30;
    o.seed = 9;
    CHECK(aglm_session_sample(s, &o, &text) == AGLM_OK && strlen(text) == 30, "a 30-character sample");
    snprintf(full, sizeof full, "%s", text);
    CHECK(aglm_session_sample(s, &o, &text) == AGLM_OK && strcmp(text, full) == 0, "the same seed samples the same text");
    o.on_text = collect;
    o.user_data = &st;
    CHECK(aglm_session_sample(s, &o, &text) == AGLM_OK && st.pieces == 10 && strcmp(text, st.text) == 0 &&
              strncmp(text, full, 10) == 0 && strlen(text) == 10,
          "streamed '%s' (%d pieces) into '%s', the start of '%s'", st.text, st.pieces, text, full);
}

/* Checks the session's listing of the program's components and function. */
static void check_listing(aglm_session *s) {
    size_t count = 0, i;
    int found_dense = 0, found_sgd = 0, found_half = 0;
    CHECK(aglm_session_component_count(s, &count) == AGLM_OK && count > 2, "component count %zu", count);
    for (i = 0; i < count; ++i) {
        aglm_component_info info;
        aglm_component_info_init(&info, AGLM_API_VERSION);
        CHECK(aglm_session_component(s, i, &info) == AGLM_OK, "component %zu", i);
        if (strcmp(info.name, "my_dense") == 0) {
            found_dense = 1;
            CHECK(info.kind == AGLM_KIND_ATTENTION && strcmp(info.file, "api_inprocess.c") == 0 &&
                      strcmp(info.attention_path, "composed") == 0 && info.param_count == 0 &&
                      strcmp(info.version, "0.1.0") == 0,
                  "my_dense listed as kind %d from %s, %s", info.kind, info.file, info.attention_path);
        }
        if (strcmp(info.name, "my_sgd") == 0) {
            aglm_param_spec spec;
            found_sgd = 1;
            spec.struct_size = sizeof spec;
            CHECK(info.kind == AGLM_KIND_OPTIMIZER && info.attention_path == NULL && info.param_count == 1,
                  "my_sgd listed as kind %d with %zu parameters", info.kind, info.param_count);
            CHECK(aglm_session_component_param(s, i, 0, &spec) == AGLM_OK && strcmp(spec.name, "gain") == 0 &&
                      spec.type == AGLM_PARAM_FLOAT && spec.default_number == 1.0 && spec.max == 10.0 &&
                      strcmp(spec.doc, "multiplies the learning rate") == 0,
                  "my_sgd's schema");
        }
    }
    CHECK(found_dense && found_sgd, "the program's components are listed");
    CHECK(aglm_session_function_count(s, &count) == AGLM_OK, "function count");
    for (i = 0; i < count; ++i) {
        aglm_function_entry entry;
        aglm_function_entry_init(&entry, AGLM_API_VERSION);
        CHECK(aglm_session_function(s, i, &entry) == AGLM_OK, "function %zu", i);
        if (strcmp(entry.name, "my_half") == 0) {
            found_half = 1;
            CHECK(strcmp(entry.prototype, "double my_half(double x)") == 0 && strcmp(entry.origin, "api_inprocess.c") == 0 &&
                      strcmp(entry.doc, "x / 2") == 0,
                  "my_half listed as %s from %s", entry.prototype, entry.origin);
        }
    }
    CHECK(found_half, "the program's function is listed");
}

int main(int argc, char **argv) {
    char dir[4096];
    run plugin = {{0}, {0}, 0, 0}, attention = plugin, both = plugin;
    aglm_session *s;
    int i;
    if (argc != 3) return 2;
    host = aglm_host_api_table();
    CHECK(host != NULL && host->abi_major == AGLM_ABI_MAJOR && host->struct_size >= sizeof(aglm_host_api),
          "the host API table");

    snprintf(dir, sizeof dir, "%s/plugin", argv[2]);
    s = session(argv[1], dir, "causal_dense", "sgd", NULL, NULL, &plugin);
    CHECK(s != NULL && plugin.steps == STEPS, "causal_dense + sgd trained %d steps", plugin.steps);
    check_listing(s);
    aglm_session_free(s);

    snprintf(dir, sizeof dir, "%s/attention", argv[2]);
    s = session(argv[1], dir, "my_dense", "sgd", NULL, NULL, &attention);
    CHECK(s != NULL && attention.steps == STEPS, "my_dense + sgd trained");
    for (i = 1; i <= STEPS; ++i)
        CHECK(attention.loss[i] == plugin.loss[i], "step %d: my_dense loss %.17g, causal_dense %.17g", i,
              attention.loss[i], plugin.loss[i]);
    aglm_session_free(s);

    snprintf(dir, sizeof dir, "%s/both", argv[2]);
    s = session(argv[1], dir, "my_dense", "my_sgd", NULL, NULL, &both);
    CHECK(s != NULL && both.steps == STEPS, "my_dense + my_sgd trained");
    CHECK(both.loss[STEPS] < both.loss[1] - 0.5, "loss falls with my_sgd: %g -> %g", both.loss[1], both.loss[STEPS]);
    for (i = 1; i <= STEPS; ++i)
        CHECK(fabs(both.loss[i] - plugin.loss[i]) <= 1e-5 * plugin.loss[i], "step %d: my_sgd loss %.9g, sgd %.9g", i,
              both.loss[i], plugin.loss[i]);
    {
        size_t tensors = 0;
        CHECK(aglm_session_tensor_count(s, &tensors) == AGLM_OK && (size_t)declared == tensors &&
                  stepped == (long)(STEPS * tensors) && begun == STEPS,
              "my_sgd: declare_state %ld, step %ld, step_begin %ld calls for %zu tensors", declared, stepped, begun,
              tensors);
        CHECK(lr_sum_begin == both.lr_sum, "my_sgd saw the lr the progress reports (%.17g vs %.17g)", lr_sum_begin,
              both.lr_sum);
        CHECK(logged == STEPS, "my_sgd's %ld log lines reached the log callback", logged);
    }
    check_sampling(s);
    aglm_session_free(s);

    snprintf(dir, sizeof dir, "%s/schedule", argv[2]);
    {
        static const char *const schedule[] = {"train.lr_schedule.function=my_lr", "train.lr_schedule.args.floor=0.05",
                                               "train.log_interval=1", NULL};
        run scheduled = {{0}, {0}, 0, 0};
        s = session(argv[1], dir, "causal_dense", "sgd", NULL, schedule, &scheduled);
        CHECK(s != NULL && scheduled.steps == STEPS, "causal_dense + sgd with my_lr trained %d steps", scheduled.steps);
        for (i = 1; i <= STEPS; ++i)
            CHECK(scheduled.lr[i] == my_lr(i - 1, 0.3, 0.05), "step %d: lr %.17g, my_lr gives %.17g", i, scheduled.lr[i],
                  my_lr(i - 1, 0.3, 0.05));
        aglm_session_free(s);
    }

    snprintf(dir, sizeof dir, "%s/clash", argv[2]);
    s = session(argv[1], dir, "my_dense", "sgd", &clashing, NULL, NULL);
    CHECK(s == NULL && strstr(aglm_last_error(), "api_inprocess.c") != NULL &&
              strstr(aglm_last_error(), "libaglm_sgd.so") != NULL && strstr(aglm_last_error(), "'sgd'") != NULL,
          "a program optimizer named sgd is refused naming both owners");

    if (failures > 0) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
