/*
 * Test program: sessions on several threads through the C API (pthreads).
 *
 *   api_threads CORPUS RUN_ROOT
 *
 *  - Sessions A and B (different seeds) each train alone; then both train at once on two
 *    threads: each gives bit-identical losses, metrics and weights to its run alone.
 *  - A stop requested from another thread while a session trains ends it after that step; so
 *    does AGLM_STOP returned by the progress callback.
 * Prints "ok N checks" and exits 0, or prints each failed check and exits 1.
 */
#include <autoglm/autoglm.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

#define STEPS 12

/* What one training produced. */
typedef struct outcome {
    double loss[STEPS + 1];
    double val_loss;
    float *weights;
    size_t weight_count;
    aglm_status status;
    char error[1024];
} outcome;

/* One training to run: its corpus, directory, seed and result. */
typedef struct job {
    const char *corpus;
    char dir[4096];
    int seed;
    outcome out;
} job;

static int32_t record(void *user, const aglm_progress *p) {
    outcome *o = (outcome *)user;
    if (p->kind == AGLM_PROGRESS_STEP && p->step <= STEPS) o->loss[p->step] = p->loss;
    return AGLM_CONTINUE;
}

/* Creates the session of `j` (progress into `progress_user`, or `record` into j->out). */
static aglm_status create(job *j, aglm_progress_fn progress, void *progress_user, aglm_session **s) {
    char o1[4200], o2[4200], o3[64];
    const char *overrides[3];
    aglm_session_options o;
    snprintf(o1, sizeof o1, "data.path=%s", j->corpus);
    snprintf(o2, sizeof o2, "run.dir=%s", j->dir);
    snprintf(o3, sizeof o3, "train.seed=%d", j->seed);
    overrides[0] = o1, overrides[1] = o2, overrides[2] = o3;
    aglm_session_options_init(&o, AGLM_API_VERSION);
    o.config_text = "model: {n_layer: 2, n_head: 2, n_embd: 32, block_size: 16}\n"
                    "train: {steps: 12, batch_size: 8, warmup_steps: 2, eval_interval: 6, eval_batches: 2, threads: 2}\n"
                    "attention: {name: flash}\n";
    o.overrides = overrides;
    o.override_count = 3;
    o.overwrite = 1;
    o.progress = progress != NULL ? progress : record;
    o.progress_user_data = progress != NULL ? progress_user : &j->out;
    return aglm_session_create(&o, s);
}

/* Copies every parameter's values, in order, into out->weights. */
static aglm_status copy_weights(aglm_session *s, outcome *out) {
    size_t tensors = 0, i, at = 0;
    int64_t count = 0;
    aglm_status st;
    if ((st = aglm_session_parameter_count(s, &count)) != AGLM_OK) return st;
    if ((st = aglm_session_tensor_count(s, &tensors)) != AGLM_OK) return st;
    out->weights = (float *)malloc((size_t)count * sizeof(float));
    out->weight_count = (size_t)count;
    for (i = 0; i < tensors; ++i) {
        const char *name;
        aglm_view view;
        int64_t n = 1;
        int32_t d;
        view.struct_size = sizeof view;
        if ((st = aglm_session_tensor_name(s, i, &name)) != AGLM_OK) return st;
        if ((st = aglm_session_parameter(s, name, &view)) != AGLM_OK) return st;
        for (d = 0; d < view.ndim; ++d) n *= view.shape[d];
        memcpy(out->weights + at, view.data, (size_t)n * sizeof(float));
        at += (size_t)n;
    }
    return at == out->weight_count ? AGLM_OK : AGLM_ERR_INTERNAL;
}

/* Trains `j` from scratch and records its outcome (a thread's body). */
static void *train(void *arg) {
    job *j = (job *)arg;
    aglm_session *s = NULL;
    size_t i, count = 0;
    memset(&j->out, 0, sizeof j->out);
    if ((j->out.status = create(j, NULL, NULL, &s)) == AGLM_OK &&
        (j->out.status = aglm_session_train(s, AGLM_TRAIN_REMAINING, NULL)) == AGLM_OK &&
        (j->out.status = aglm_session_metric_count(s, &count)) == AGLM_OK)
        j->out.status = copy_weights(s, &j->out);
    for (i = 0; i < count; ++i) {
        const char *name;
        double value;
        if (aglm_session_metric(s, i, &name, &value) == AGLM_OK && strcmp(name, "val/loss") == 0) j->out.val_loss = value;
    }
    if (j->out.status != AGLM_OK) snprintf(j->out.error, sizeof j->out.error, "%s", aglm_last_error());
    aglm_session_free(s);
    return NULL;
}

/* Checks that `together` is exactly `alone`. */
static void same(const char *which, const outcome *alone, const outcome *together) {
    int i;
    CHECK(alone->status == AGLM_OK && together->status == AGLM_OK, "%s trained (%s%s)", which, alone->error, together->error);
    if (alone->status != AGLM_OK || together->status != AGLM_OK) return;
    for (i = 1; i <= STEPS; ++i)
        CHECK(alone->loss[i] == together->loss[i], "%s step %d: %.17g alone, %.17g beside the other", which, i,
              alone->loss[i], together->loss[i]);
    CHECK(alone->val_loss == together->val_loss && alone->val_loss > 0, "%s val/loss %.17g alone, %.17g together", which,
          alone->val_loss, together->val_loss);
    CHECK(alone->weight_count == together->weight_count &&
              memcmp(alone->weights, together->weights, alone->weight_count * sizeof(float)) == 0,
          "%s weights bit-identical", which);
}

/* --- a stop from another thread ----------------------------------------------------------- */
typedef struct stopper {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int64_t step;      /* the latest step the trainer reported */
    int stop_sent;     /* set by the other thread after aglm_session_request_stop */
    aglm_session *session;
} stopper;

static int32_t wait_for_stop(void *user, const aglm_progress *p) {
    stopper *st = (stopper *)user;
    if (p->kind != AGLM_PROGRESS_STEP) return AGLM_CONTINUE;
    pthread_mutex_lock(&st->lock);
    st->step = p->step;
    pthread_cond_broadcast(&st->changed);
    while (p->step == 3 && !st->stop_sent) pthread_cond_wait(&st->changed, &st->lock);
    pthread_mutex_unlock(&st->lock);
    return AGLM_CONTINUE;
}

static int32_t stop_at_four(void *user, const aglm_progress *p) {
    (void)user;
    return p->kind == AGLM_PROGRESS_STEP && p->step == 4 ? AGLM_STOP : AGLM_CONTINUE;
}

static void *send_stop(void *arg) {
    stopper *st = (stopper *)arg;
    pthread_mutex_lock(&st->lock);
    while (st->step < 3) pthread_cond_wait(&st->changed, &st->lock);
    pthread_mutex_unlock(&st->lock);
    CHECK(aglm_session_request_stop(st->session) == AGLM_OK, "request_stop from another thread");
    pthread_mutex_lock(&st->lock);
    st->stop_sent = 1;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int main(int argc, char **argv) {
    job a, b, a2, b2, c;
    pthread_t ta, tb;
    stopper st;
    aglm_train_result result;
    if (argc != 3) return 2;
    a.corpus = b.corpus = c.corpus = argv[1];
    a.seed = 7, b.seed = 8, c.seed = 9;
    snprintf(a.dir, sizeof a.dir, "%s/a", argv[2]);
    snprintf(b.dir, sizeof b.dir, "%s/b", argv[2]);
    snprintf(c.dir, sizeof c.dir, "%s/c", argv[2]);
    a2 = a, b2 = b;

    train(&a);
    train(&b);
    CHECK(a.out.status == AGLM_OK && b.out.status == AGLM_OK && a.out.loss[STEPS] != b.out.loss[STEPS],
          "different seeds train different models");
    CHECK(pthread_create(&ta, NULL, train, &a2) == 0 && pthread_create(&tb, NULL, train, &b2) == 0, "threads");
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    same("A", &a.out, &a2.out);
    same("B", &b.out, &b2.out);

    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.changed, NULL);
    CHECK(create(&c, wait_for_stop, &st, &st.session) == AGLM_OK, "stoppable session");
    CHECK(pthread_create(&ta, NULL, send_stop, &st) == 0, "stopping thread");
    aglm_train_result_init(&result, AGLM_API_VERSION);
    CHECK(aglm_session_train(st.session, AGLM_TRAIN_REMAINING, &result) == AGLM_OK && result.steps == 3 &&
              result.stopped_early == 1,
          "a stop from another thread ends training after its step: %lld steps, stopped_early %d",
          (long long)result.steps, result.stopped_early);
    pthread_join(ta, NULL);
    CHECK(aglm_session_train(st.session, 2, &result) == AGLM_OK && result.steps == 5 && result.stopped_early == 0,
          "training continues after the stop: %lld steps", (long long)result.steps);
    aglm_session_free(st.session);

    CHECK(create(&c, stop_at_four, NULL, &st.session) == AGLM_OK, "a session the progress callback stops");
    CHECK(aglm_session_train(st.session, AGLM_TRAIN_REMAINING, &result) == AGLM_OK && result.steps == 4 &&
              result.stopped_early == 1,
          "AGLM_STOP from the progress callback ends training after that step: %lld steps", (long long)result.steps);
    aglm_session_free(st.session);

    free(a.out.weights), free(b.out.weights), free(a2.out.weights), free(b2.out.weights);
    if (failures > 0) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
