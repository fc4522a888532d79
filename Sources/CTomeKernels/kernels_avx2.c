// The AVX2 + FMA + F16C copy of the kernels (Haswell and later, Zen and later).
#if defined(__x86_64__)
#define TK_SUFFIX avx2
#define TK_LEVEL TK_LEVEL_AVX2
#define TK_FUSED 1
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,bmi2"))), apply_to = function)
#include "kernels_body.h"
#pragma clang attribute pop
#endif
