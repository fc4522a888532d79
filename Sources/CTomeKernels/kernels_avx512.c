// The AVX-512 copy of the kernels (F, BW, VL, DQ: Skylake-X, Ice Lake and later, Zen 4 and later).
#if defined(__x86_64__)
#define TK_SUFFIX avx512
#define TK_LEVEL TK_LEVEL_AVX512
#define TK_FUSED 1
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c,bmi2"))), apply_to = function)
#include "kernels_body.h"
#pragma clang attribute pop
#endif
