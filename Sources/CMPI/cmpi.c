/* See include/cmpi.h. Function pointers and handles of Open MPI, filled by cmpi_load. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "cmpi.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Open MPI's handle types are pointers to its objects; only their addresses are used here. */
typedef void *MPI_Comm;
typedef void *MPI_Datatype;
typedef void *MPI_Op;
typedef void *MPI_Errhandler;

#define CMPI_IN_PLACE ((void *)1)
#define CMPI_STATUS_IGNORE NULL

static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*initialized)(int *);
    int (*finalized)(int *);
    int (*query_thread)(int *);
    int (*is_thread_main)(int *);
    int (*comm_dup)(MPI_Comm, MPI_Comm *);
    int (*finalize)(void);
    int (*abort)(MPI_Comm, int);
    int (*comm_rank)(MPI_Comm, int *);
    int (*comm_size)(MPI_Comm, int *);
    int (*comm_set_errhandler)(MPI_Comm, MPI_Errhandler);
    int (*allreduce)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm);
    int (*iallreduce)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm, cmpi_request *);
    int (*ibarrier)(MPI_Comm, cmpi_request *);
    int (*test)(cmpi_request *, int *, void *);
    int (*wait)(cmpi_request *, void *);
    int (*bcast)(void *, int, MPI_Datatype, int, MPI_Comm);
    int (*gatherv)(const void *, int, MPI_Datatype, void *, const int *, const int *, MPI_Datatype, int, MPI_Comm);
    int (*error_string)(int, char *, int *);
    MPI_Comm world;
    MPI_Datatype types[3];
    MPI_Op ops[3];
    MPI_Errhandler errors_return;
} mpi;

/* Largest count one MPI call takes (its counts are int); larger buffers go in pieces. */
#define CMPI_CHUNK ((int64_t)1 << 30)

static size_t type_size(cmpi_type type) {
    return type == CMPI_FLOAT ? sizeof(float) : type == CMPI_DOUBLE ? sizeof(double) : 1;
}

int cmpi_load(const char *library, char *message, size_t capacity) {
    const char *name = library ? library : "libmpi.so.40";
    void *h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        snprintf(message, capacity, "cannot open %s (%s): install Open MPI (Debian: libopenmpi-dev openmpi-bin)",
                 name, dlerror());
        return -1;
    }
    struct { void **slot; const char *symbol; } table[] = {
        {(void **)&mpi.init_thread, "MPI_Init_thread"},
        {(void **)&mpi.initialized, "MPI_Initialized"},
        {(void **)&mpi.finalized, "MPI_Finalized"},
        {(void **)&mpi.query_thread, "MPI_Query_thread"},
        {(void **)&mpi.is_thread_main, "MPI_Is_thread_main"},
        {(void **)&mpi.comm_dup, "MPI_Comm_dup"},
        {(void **)&mpi.finalize, "MPI_Finalize"},
        {(void **)&mpi.abort, "MPI_Abort"},
        {(void **)&mpi.comm_rank, "MPI_Comm_rank"},
        {(void **)&mpi.comm_size, "MPI_Comm_size"},
        {(void **)&mpi.comm_set_errhandler, "MPI_Comm_set_errhandler"},
        {(void **)&mpi.allreduce, "MPI_Allreduce"},
        {(void **)&mpi.iallreduce, "MPI_Iallreduce"},
        {(void **)&mpi.ibarrier, "MPI_Ibarrier"},
        {(void **)&mpi.test, "MPI_Test"},
        {(void **)&mpi.wait, "MPI_Wait"},
        {(void **)&mpi.bcast, "MPI_Bcast"},
        {(void **)&mpi.gatherv, "MPI_Gatherv"},
        {(void **)&mpi.error_string, "MPI_Error_string"},
        {(void **)&mpi.world, "ompi_mpi_comm_world"},
        {(void **)&mpi.types[CMPI_FLOAT], "ompi_mpi_float"},
        {(void **)&mpi.types[CMPI_DOUBLE], "ompi_mpi_double"},
        {(void **)&mpi.types[CMPI_BYTE], "ompi_mpi_byte"},
        {(void **)&mpi.ops[CMPI_SUM], "ompi_mpi_op_sum"},
        {(void **)&mpi.ops[CMPI_MAX], "ompi_mpi_op_max"},
        {(void **)&mpi.ops[CMPI_MIN], "ompi_mpi_op_min"},
        {(void **)&mpi.errors_return, "ompi_mpi_errors_return"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        /* The process's global scope first: a program linked with libmpi itself holds copies of
         * its handle objects (copy relocations: ompi_mpi_comm_world, ...), which libmpi then
         * uses, not its own; the library's handle finds the unused originals. */
        void *address = dlsym(RTLD_DEFAULT, table[i].symbol);
        if (!address) address = dlsym(h, table[i].symbol);
        if (!address) {
            snprintf(message, capacity, "%s has no %s: AutoGLM needs Open MPI 3 or 4 (libmpi.so.40)", name,
                     table[i].symbol);
            return -1;
        }
        *table[i].slot = address;
    }
    return 0;
}

/* Set by cmpi_set_clean_exit; read by the atexit handler. */
static volatile int clean_exit;

static void finalize_at_exit(void) {
    if (clean_exit) mpi.finalize();
}

int cmpi_state(int *initialized, int *finalized, int *thread_level, int *is_main) {
    int rc;
    *thread_level = -1;
    *is_main = 0;
    if ((rc = mpi.initialized(initialized)) || (rc = mpi.finalized(finalized))) return rc;
    if (!*initialized || *finalized) return 0;
    if ((rc = mpi.query_thread(thread_level))) return rc;
    return mpi.is_thread_main(is_main);
}

int cmpi_init(int adopt, int *rank, int *size) {
    MPI_Comm world = mpi.world;
    int rc;
    if (!adopt) {
        int provided = 0;
        if ((rc = mpi.init_thread(NULL, NULL, CMPI_THREAD_SERIALIZED, &provided))) return rc;
        atexit(finalize_at_exit);
    }
    /* The host's own communicator: its collectives never match the program's messages, and
     * the error handler set here is not the program's MPI_COMM_WORLD's. */
    if ((rc = mpi.comm_dup(world, &mpi.world))) return rc;
    if ((rc = mpi.comm_set_errhandler(mpi.world, mpi.errors_return))) return rc;
    if ((rc = mpi.comm_rank(mpi.world, rank))) return rc;
    return mpi.comm_size(mpi.world, size);
}

void cmpi_set_clean_exit(int clean) { clean_exit = clean; }

int cmpi_abort(int code) { return mpi.abort(mpi.world, code); }

int cmpi_allreduce(void *buffer, int64_t count, cmpi_type type, cmpi_op op) {
    char *p = buffer;
    for (int64_t done = 0; done < count; done += CMPI_CHUNK) {
        int n = (int)(count - done < CMPI_CHUNK ? count - done : CMPI_CHUNK);
        int rc = mpi.allreduce(CMPI_IN_PLACE, p + done * type_size(type), n, mpi.types[type], mpi.ops[op], mpi.world);
        if (rc) return rc;
    }
    return 0;
}

int cmpi_iallreduce_sum_float(float *buffer, int64_t count, cmpi_request *request) {
    if (count > CMPI_CHUNK) return -1;  /* buckets are far smaller: refused by the host first */
    return mpi.iallreduce(CMPI_IN_PLACE, buffer, (int)count, mpi.types[CMPI_FLOAT], mpi.ops[CMPI_SUM], mpi.world,
                          request);
}

int cmpi_ibarrier(cmpi_request *request) { return mpi.ibarrier(mpi.world, request); }

int cmpi_test(cmpi_request *request, int *done) { return mpi.test(request, done, CMPI_STATUS_IGNORE); }

int cmpi_wait(cmpi_request *request) { return mpi.wait(request, CMPI_STATUS_IGNORE); }

int cmpi_bcast(void *buffer, int64_t count, cmpi_type type, int root) {
    char *p = buffer;
    for (int64_t done = 0; done < count; done += CMPI_CHUNK) {
        int n = (int)(count - done < CMPI_CHUNK ? count - done : CMPI_CHUNK);
        int rc = mpi.bcast(p + done * type_size(type), n, mpi.types[type], root, mpi.world);
        if (rc) return rc;
    }
    return 0;
}

int cmpi_gatherv_float(const float *send, int count, float *receive, const int *counts,
                       const int *displacements, int root) {
    return mpi.gatherv(send, count, mpi.types[CMPI_FLOAT], receive, counts, displacements, mpi.types[CMPI_FLOAT],
                       root, mpi.world);
}

void cmpi_error_string(int code, char *message, size_t capacity) {
    char text[512];
    int length = 0;
    if (code == -1 || !mpi.error_string || mpi.error_string(code, text, &length) != 0) {
        snprintf(message, capacity, "MPI error %d", code);
        return;
    }
    snprintf(message, capacity, "%.*s", length, text);
}
