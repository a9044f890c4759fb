/*
 * kernels_avx2.c — the element kernels of kernels_impl.h compiled for the avx2 path.
 */
#include "ck_kernels.h"

#include <stdint.h>
#include <string.h>

#define CK_FN(name) name##_avx2
#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "kernels_impl.h"
#pragma clang attribute pop
#endif
