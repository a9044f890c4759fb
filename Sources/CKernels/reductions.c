/*
 * reductions.c — reductions over float buffers, accumulated for accuracy.
 */
#include "ck_kernels.h"

/** Elements per float block before the block's sum joins the double total. */
#define CK_SUM_BLOCK 1024

double ck_sum_squares(const float *x, size_t n) {
    double total = 0.0;
    size_t i = 0;
    while (i < n) {
        const size_t end = n - i < CK_SUM_BLOCK ? n : i + CK_SUM_BLOCK;
        float acc[16] = {0};
        float block = 0.0f;
        int k;
        for (; i + 16 <= end; i += 16)
            for (k = 0; k < 16; ++k) acc[k] += x[i + k] * x[i + k];
        for (; i < end; ++i) acc[0] += x[i] * x[i];
        for (k = 0; k < 16; ++k) block += acc[k];
        total += (double)block;
    }
    return total;
}
