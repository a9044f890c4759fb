/* A program that uses MPI itself and trains through libautoglm under mpirun (MPITrainingTests):
 * it initialises MPI (plain MPI_Init), so the library must join that MPI, not initialise or
 * finalise it; a second session while the first lives is refused with AGLM_ERR_STATE; after the
 * first is freed, a second one trains; the program's own MPI_COMM_WORLD still works and its
 * MPI_Finalize succeeds. Prints "ok rank R of N" and exits 0, or names what failed and exits 1.
 *
 * Usage: api_mpi CORPUS WORK_DIR */
#include <autoglm/autoglm.h>
#include <mpi.h>

#include <stdio.h>
#include <string.h>

static const char *config =
    "model: {n_layer: 1, n_head: 2, n_embd: 16, block_size: 16}\n"
    "train: {steps: 4, batch_size: 4, eval_interval: 4, eval_batches: 1, log_interval: 1, threads: 1}\n";

static int fail(int rank, const char *what) {
    fprintf(stderr, "rank %d: %s: %s\n", rank, what, aglm_last_error());
    return 1;
}

/* Creates a session training CORPUS into WORK_DIR/NAME. */
static aglm_status create(const char *corpus, const char *work, const char *name, aglm_session **s) {
    char data[4096], dir[4096];
    const char *overrides[2];
    aglm_session_options o;
    aglm_session_options_init(&o, AGLM_API_VERSION);
    snprintf(data, sizeof data, "data.path=%s", corpus);
    snprintf(dir, sizeof dir, "run.dir=%s/%s", work, name);
    overrides[0] = data;
    overrides[1] = dir;
    o.config_text = config;
    o.overrides = overrides;
    o.override_count = 2;
    o.overwrite = 1;
    return aglm_session_create(&o, s);
}

int main(int argc, char **argv) {
    aglm_session *first, *second;
    aglm_train_result result;
    int rank = -1, size = 0, one = 1, sum = 0;
    aglm_status status;
    if (argc != 3) {
        fprintf(stderr, "usage: api_mpi CORPUS WORK_DIR\n");
        return 2;
    }
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    aglm_train_result_init(&result, AGLM_API_VERSION);

    if (create(argv[1], argv[2], "first", &first) != AGLM_OK) return fail(rank, "create first");
    status = create(argv[1], argv[2], "second", &second);
    if (status != AGLM_ERR_STATE || strstr(aglm_last_error(), "another data-parallel session") == NULL) {
        fprintf(stderr, "rank %d: a second live session gave %s: %s\n", rank, aglm_status_name(status), aglm_last_error());
        return 1;
    }
    if (aglm_session_train(first, AGLM_TRAIN_REMAINING, &result) != AGLM_OK) return fail(rank, "train first");
    printf("rank %d first steps %lld loss %.9g\n", rank, (long long)result.steps, result.final_loss);
    if (aglm_session_free(first) != AGLM_OK) return fail(rank, "free first");

    if (create(argv[1], argv[2], "second", &second) != AGLM_OK) return fail(rank, "create second");
    if (aglm_session_train(second, AGLM_TRAIN_REMAINING, &result) != AGLM_OK) return fail(rank, "train second");
    printf("rank %d second steps %lld loss %.9g\n", rank, (long long)result.steps, result.final_loss);
    if (aglm_session_free(second) != AGLM_OK) return fail(rank, "free second");

    if (MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS || sum != size) {
        fprintf(stderr, "rank %d: the program's own MPI_Allreduce gave %d of %d\n", rank, sum, size);
        return 1;
    }
    if (MPI_Finalize() != MPI_SUCCESS) {
        fprintf(stderr, "rank %d: MPI_Finalize failed: the library must not finalise the program's MPI\n", rank);
        return 1;
    }
    printf("ok rank %d of %d\n", rank, size);
    return 0;
}
