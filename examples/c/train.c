/*
 * train.c — a complete program that trains a small GPT through libautoglm, with an optimizer
 * written here: Signum, sign-SGD with momentum (Bernstein et al. 2018, "signSGD"):
 *     m = beta * m + (1 - beta) * g;   p -= lr * sign(m)
 * registered in-process with the same descriptor and vtable a plugin .so would use.
 *
 * Build:  cc -std=c99 -O2 train.c $(pkg-config --cflags --libs autoglm) -o train
 * Train:  ./train CORPUS RUN_DIR [key=value ...]   trains, prints the val loss, samples, and
 *                                                   saves the checkpoint RUN_DIR/final
 * Load:   ./train --load RUN_DIR/final              loads the checkpoint back and samples again
 *                                                   (the same text: same weights, same seed)
 */
#include <autoglm/autoglm.h>

#include <stdio.h>
#include <string.h>

static const char *config =
    "model: {n_layer: 2, n_head: 2, n_embd: 32, block_size: 32}\n"
    "optimizer: {name: signum, lr: 0.002, beta: 0.9}\n"
    "train: {steps: 200, batch_size: 8, warmup_steps: 10, eval_interval: 100, eval_batches: 8}\n";

/* --- the optimizer: one state buffer per parameter (host-owned, saved in checkpoints) ------ */
static const aglm_host_api *host;
static const aglm_param_spec params[] = {{sizeof(aglm_param_spec), "beta", AGLM_PARAM_FLOAT,
    "momentum of the gradient's running mean", 0.9, NULL, NULL, 0, 0.0, 1.0, NULL, 0}};

static aglm_status create(aglm_ctx *ctx, const aglm_params *p, const void *info, void *layout,
                          void **instance) {
    static double beta; /* one instance per session; this program runs one at a time */
    (void)ctx, (void)info, (void)layout;
    beta = host->param_number(p, "beta");
    *instance = &beta;
    return AGLM_OK;
}
static void destroy(void *instance) { (void)instance; }

static aglm_status declare_state(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                 aglm_state_decl *decls, size_t capacity, size_t *count) {
    (void)instance, (void)ctx, (void)capacity;
    strcpy(decls[0].name, "momentum");
    decls[0].ndim = param->ndim;
    memcpy(decls[0].shape, param->shape, (size_t)param->ndim * sizeof(int64_t));
    *count = 1;
    return AGLM_OK;
}

static aglm_status step(void *instance, aglm_ctx *ctx, const aglm_optim_step *a) {
    const double beta = *(const double *)instance;
    float *p = (float *)a->value->data, *m = (float *)a->states[0]->data;
    const float *g = (const float *)a->grad->data;
    int64_t i;
    if (a->value->dtype.code != AGLM_DTYPE_FLOAT || a->value->dtype.bits != 32) {
        host->set_error(ctx, "signum: expected float32 parameters");
        return AGLM_ERR_UNSUPPORTED;
    }
    for (i = 0; i < a->param->numel; ++i) {
        m[i] = (float)(beta * m[i] + (1.0 - beta) * g[i]);
        p[i] -= (float)a->lr * (float)((m[i] > 0) - (m[i] < 0));
    }
    return AGLM_OK;
}

static const aglm_optimizer_vtable vtable = {sizeof(aglm_optimizer_vtable), declare_state, NULL, step};
static const aglm_component_desc signum = {sizeof(aglm_component_desc), AGLM_KIND_OPTIMIZER,
    "signum", "sign of the gradient's momentum (Bernstein et al. 2018)", "1.0.0", params, 1,
    create, destroy, NULL, NULL, &vtable};

/* --- progress: one line per logged step and per evaluation --------------------------------- */
static int32_t progress(void *user, const aglm_progress *p) {
    size_t i;
    (void)user;
    if (p->kind == AGLM_PROGRESS_STEP && p->logged)
        printf("step %lld loss %.4f lr %.2e\n", (long long)p->step, p->loss, p->lr);
    for (i = 0; p->kind == AGLM_PROGRESS_EVALUATION && i < p->metric_count; ++i)
        printf("eval %lld %s %.4f\n", (long long)p->step, p->metrics[i].name, p->metrics[i].value);
    return AGLM_CONTINUE;
}

static int fail(const char *what) {
    fprintf(stderr, "train: %s: %s\n", what, aglm_last_error());
    return 1;
}

/* Samples 80 characters after a space and prints them. */
static int sample(aglm_session *s) {
    aglm_sample_options o;
    const char *text;
    aglm_sample_options_init(&o, AGLM_API_VERSION);
    o.prompt = " ";
    o.tokens = 80;
    o.seed = 7;
    if (aglm_session_sample(s, &o, &text) != AGLM_OK) return fail("sample");
    printf("sample: %s\n", text);
    return 0;
}

int main(int argc, char **argv) {
    const aglm_component_desc *components[] = {&signum};
    char overrides[2][4096], path[4096];
    const char *list[64];
    aglm_session_options o;
    aglm_session *s;
    int64_t step;
    size_t n;
    const char *name;
    double value;
    int i, loading = argc == 3 && strcmp(argv[1], "--load") == 0;
    if (!loading && (argc < 3 || argc > 62)) {
        fprintf(stderr, "usage: train CORPUS RUN_DIR [key=value ...] | train --load CHECKPOINT\n");
        return 2;
    }
    host = aglm_host_api_table();
    if (aglm_session_options_init(&o, AGLM_API_VERSION) != AGLM_OK) return fail("options");
    o.components = components;
    o.component_count = 1;
    if (loading) { /* the checkpoint's own config; no data: sampling only */
        o.resume = argv[2];
        o.data = AGLM_DATA_NONE;
    } else {
        snprintf(overrides[0], sizeof overrides[0], "data.path=%s", argv[1]);
        snprintf(overrides[1], sizeof overrides[1], "run.dir=%s", argv[2]);
        list[0] = overrides[0];
        list[1] = overrides[1];
        for (i = 3; i < argc; ++i) list[i - 1] = argv[i];
        o.config_text = config;
        o.overrides = list;
        o.override_count = (size_t)argc - 1;
        o.overwrite = 1;
        o.progress = progress;
    }
    if (aglm_session_create(&o, &s) != AGLM_OK) return fail("create");
    if (!loading) {
        if (aglm_session_train(s, AGLM_TRAIN_REMAINING, NULL) != AGLM_OK) return fail("train");
        for (n = 0; aglm_session_metric(s, n, &name, &value) == AGLM_OK; ++n)
            if (strcmp(name, "val/loss") == 0) printf("val loss %.4f\n", value);
        snprintf(path, sizeof path, "%s/final", argv[2]);
        if (aglm_session_save(s, path) != AGLM_OK) return fail("save");
        printf("saved %s\n", path);
    }
    if (aglm_session_step(s, &step) != AGLM_OK) return fail("step");
    printf("trained steps %lld\n", (long long)step);
    if (sample(s) != 0) return 1;
    aglm_session_free(s);
    return 0;
}
