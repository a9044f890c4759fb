/* The few MPI calls data-parallel training needs, reached through dlopen/dlsym so that the host
 * has no link-time dependency on MPI: `autoglm train` without mpirun never loads it.
 *
 * Open MPI only (libmpi.so.40, Open MPI 3.x/4.x): its handles are the addresses of exported
 * objects (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum, ...), looked up by name here,
 * and MPI_IN_PLACE is (void *)1 and MPI_STATUS_IGNORE NULL, as its mpi.h defines them. No MPI
 * header is needed to build.
 *
 * Threading: cmpi_load and cmpi_init once, on the thread that then makes every other call
 * (MPI_THREAD_SERIALIZED is requested; the host calls MPI from the thread driving the session).
 * Errors: every call returns 0 on success or MPI's error code (MPI_ERRORS_RETURN is set on the
 * host's duplicate of the world communicator); cmpi_error_string describes one. */
#ifndef AUTOGLM_CMPI_H
#define AUTOGLM_CMPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An outstanding non-blocking operation (MPI_Request). */
typedef void *cmpi_request;

/** Element types of the reductions. */
typedef enum cmpi_type { CMPI_FLOAT = 0, CMPI_DOUBLE = 1, CMPI_BYTE = 2 } cmpi_type;

/** MPI's thread levels, as Open MPI numbers them (MPI_THREAD_SINGLE ... MPI_THREAD_MULTIPLE). */
typedef enum cmpi_thread_level {
    CMPI_THREAD_SINGLE = 0,
    CMPI_THREAD_FUNNELED = 1,
    CMPI_THREAD_SERIALIZED = 2,
    CMPI_THREAD_MULTIPLE = 3
} cmpi_thread_level;

/** Reduction operators. */
typedef enum cmpi_op { CMPI_SUM = 0, CMPI_MAX = 1, CMPI_MIN = 2 } cmpi_op;

/** Opens `library` (NULL: "libmpi.so.40") with RTLD_GLOBAL (Open MPI's own components resolve
 *  libmpi's symbols) and resolves every function and handle. Returns 0, or -1 with a message in
 *  `message` (capacity `capacity`, NUL-terminated) naming the library or the missing symbol. */
int cmpi_load(const char *library, char *message, size_t capacity);

/** The process's MPI as the program may have left it: MPI_Initialized, MPI_Finalized and, when
 *  initialised and not finalised, the thread level it provides (MPI_Query_thread, else -1) and
 *  whether the calling thread is the main one (MPI_Is_thread_main, else 0). */
int cmpi_state(int *initialized, int *finalized, int *thread_level, int *is_main);

/** The host's world: with `adopt` 0, MPI_Init_thread(MPI_THREAD_SERIALIZED) and the
 *  finalisation at exit (see cmpi_set_clean_exit); with `adopt` 1, the MPI the program already
 *  initialised (never finalised here). Then a duplicate of MPI_COMM_WORLD, the communicator of
 *  every later call, with MPI_ERRORS_RETURN, and the caller's rank and the world size in it. */
int cmpi_init(int adopt, int *rank, int *size);

/** Whether the process may finalise MPI at exit (cmpi_init registers the atexit handler; 0
 *  until set): a process that ends after a failure exits without MPI_Finalize, which makes
 *  mpirun end the job instead of waiting in the finalisation for ranks that will not come. */
void cmpi_set_clean_exit(int clean);

/** MPI_Abort on the world communicator: ends every rank of the job with `code`. */
int cmpi_abort(int code);

/** In-place blocking MPI_Allreduce of `count` elements. */
int cmpi_allreduce(void *buffer, int64_t count, cmpi_type type, cmpi_op op);

/** In-place MPI_Iallreduce (sum) of `count` floats; `request` receives the handle. */
int cmpi_iallreduce_sum_float(float *buffer, int64_t count, cmpi_request *request);

/** MPI_Test: *done is 1 when the operation completed (the request is then freed). */
int cmpi_test(cmpi_request *request, int *done);

/** MPI_Wait. */
int cmpi_wait(cmpi_request *request);

/** MPI_Ibarrier: completes (see cmpi_test) once every rank has started one. */
int cmpi_ibarrier(cmpi_request *request);

/** MPI_Bcast of `count` elements from `root`. */
int cmpi_bcast(void *buffer, int64_t count, cmpi_type type, int root);

/** MPI_Gatherv of floats to `root`: rank i sends `count` floats, the root receives counts[i]
 *  floats at offset displacements[i] of `receive` (counts, displacements, receive: root only). */
int cmpi_gatherv_float(const float *send, int count, float *receive, const int *counts,
                       const int *displacements, int root);

/** MPI_Error_string into `message` (NUL-terminated, truncated to `capacity`). */
void cmpi_error_string(int code, char *message, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
