/*
 * kernels_baseline.c — the element kernels of kernels_impl.h compiled for the baseline path.
 */
#include "ck_kernels.h"

#include <stdint.h>
#include <string.h>

#define CK_FN(name) name##_baseline
#include "kernels_impl.h"
