/*
 * kernels_avx512.c — the element kernels of kernels_impl.h compiled for the avx512 path.
 */
#include "ck_kernels.h"

#include <stdint.h>
#include <string.h>

#define CK_FN(name) name##_avx512
#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#include "kernels_impl.h"
#pragma clang attribute pop
#endif
