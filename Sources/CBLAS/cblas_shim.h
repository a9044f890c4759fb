/* Brings OpenBLAS's CBLAS declarations (cblas_sgemm, openblas_set_num_threads) into Swift. */
#include <cblas.h>
