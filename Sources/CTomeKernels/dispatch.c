// CPU identification and the choice of kernel table.
#include <stdlib.h>
#include <string.h>
#include "tome_kernels.h"

#pragma clang diagnostic ignored "-Wnullability-completeness"

extern const tk_kernels tk_table_portable;
#if defined(__x86_64__)
extern const tk_kernels tk_table_avx2;
extern const tk_kernels tk_table_avx512;
#include <cpuid.h>

static unsigned long long tk_xgetbv(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}
#endif

void tk_cpu_identify(tk_cpu_info *info) {
  memset(info, 0, sizeof *info);
#if defined(__x86_64__)
  unsigned int a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  unsigned int max_leaf = a;
  memcpy(info->vendor, &b, 4);
  memcpy(info->vendor + 4, &d, 4);
  memcpy(info->vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  int base_family = (a >> 8) & 0xF, base_model = (a >> 4) & 0xF;
  info->family = base_family == 0xF ? base_family + ((a >> 20) & 0xFF) : base_family;
  info->model = (base_family == 0x6 || base_family == 0xF) ? base_model | (((a >> 16) & 0xF) << 4) : base_model;
  info->stepping = a & 0xF;
  int osxsave = (c >> 27) & 1;
  unsigned long long xcr0 = osxsave ? tk_xgetbv() : 0;
  int ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
  int zmm = ymm && (xcr0 & 0xE0) == 0xE0;   // opmask, upper ZMM, high ZMM state
  int tiles = (xcr0 & 0x60000) == 0x60000;  // AMX tile config and data
  info->sse3 = c & 1;
  info->ssse3 = (c >> 9) & 1;
  info->sse41 = (c >> 19) & 1;
  info->sse42 = (c >> 20) & 1;
  info->fma = ymm && ((c >> 12) & 1);
  info->avx = ymm && ((c >> 28) & 1);
  info->f16c = ymm && ((c >> 29) & 1);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    info->avx2 = ymm && ((b >> 5) & 1);
    info->avx512f = zmm && ((b >> 16) & 1);
    info->avx512dq = zmm && ((b >> 17) & 1);
    info->avx512cd = zmm && ((b >> 28) & 1);
    info->avx512bw = zmm && ((b >> 30) & 1);
    info->avx512vl = zmm && ((b >> 31) & 1);
    info->avx512vnni = zmm && ((c >> 11) & 1);
    info->avx512fp16 = zmm && ((d >> 23) & 1);
    info->amx_bf16 = tiles && ((d >> 22) & 1);
    info->amx_tile = tiles && ((d >> 24) & 1);
    info->amx_int8 = tiles && ((d >> 25) & 1);
    unsigned int a1, b1, c1, d1;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    info->avx512bf16 = zmm && ((a1 >> 5) & 1);
  }
  __get_cpuid(0x80000000, &a, &b, &c, &d);
  if (a >= 0x80000004) {
    unsigned int *brand = (unsigned int *)info->brand;
    for (unsigned int leaf = 0; leaf < 3; leaf++)
      __get_cpuid(0x80000002 + leaf, brand + 4 * leaf, brand + 4 * leaf + 1, brand + 4 * leaf + 2, brand + 4 * leaf + 3);
    info->brand[48] = 0;
  }
#endif
}

tk_level tk_detect_level(void) {
  tk_cpu_info info;
  tk_cpu_identify(&info);
  if (info.avx512f && info.avx512bw && info.avx512vl && info.avx512dq && info.avx2 && info.fma && info.f16c)
    return TK_LEVEL_AVX512;
  if (info.avx2 && info.fma && info.f16c) return TK_LEVEL_AVX2;
  return TK_LEVEL_PORTABLE;
}

const tk_kernels *tk_kernels_for(tk_level level) {
#if defined(__x86_64__)
  switch (level) {
  case TK_LEVEL_AVX512: return &tk_table_avx512;
  case TK_LEVEL_AVX2: return &tk_table_avx2;
  default: break;
  }
#endif
  (void)level;
  return &tk_table_portable;
}

int tk_requested_level(void) {
  const char *name = getenv("TOME_SIMD");
  if (!name) return -1;
  if (!strcmp(name, "portable")) return TK_LEVEL_PORTABLE;
  if (!strcmp(name, "avx2")) return TK_LEVEL_AVX2;
  if (!strcmp(name, "avx512")) return TK_LEVEL_AVX512;
  return -1;
}

static const tk_kernels *tk_choose(void) {
  tk_level level = tk_detect_level();
  int requested = tk_requested_level();
  if (requested >= 0 && requested < (int)level) level = (tk_level)requested;
  return tk_kernels_for(level);
}

static const tk_kernels *tk_selected;

/// Chosen once; two threads racing on first use compute the same table.
const tk_kernels *tk_active(void) {
  const tk_kernels *k = __atomic_load_n(&tk_selected, __ATOMIC_ACQUIRE);
  if (!k) {
    k = tk_choose();
    __atomic_store_n(&tk_selected, k, __ATOMIC_RELEASE);
  }
  return k;
}

#define K tk_active()
void tk_to_half(const float *x, void *y, size_t n) { K->to_half(x, y, n); }
void tk_from_half(const void *x, float *y, size_t n) { K->from_half(x, y, n); }
void tk_round_to_half(float *x, size_t n) { K->round_to_half(x, n); }
void tk_round_like_q8(const float *x, size_t n, float *out, float *_Nullable block_sums) { K->round_like_q8(x, n, out, block_sums); }
int tk_dequantize(int type, const void *src, size_t count, float *dst) { return K->dequantize(type, src, count, dst); }
void tk_q8_prepare(const tk_q8 *a, const float *x, size_t n) { K->q8_prepare(a, x, n); }
void tk_matvec_q4_1(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1) {
  K->matvec_q4_1(data, row_bytes, blocks, a, y, r0, r1);
}
void tk_matvec_q4_0(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1) {
  K->matvec_q4_0(data, row_bytes, blocks, a, y, r0, r1);
}
void tk_matvec_q8_0(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1) {
  K->matvec_q8_0(data, row_bytes, blocks, a, y, r0, r1);
}
float tk_dot_f32(const float *a, const float *b, size_t n) { return K->dot_f32(a, b, n); }
float tk_dot_f32_f16(const float *q, const void *row, size_t n) { return K->dot_f32_f16(q, row, n); }
void tk_dot_f32_f16_rows(const float *q, const void *base, size_t n, const uint32_t *rows, size_t count, float *out) {
  float (*dot)(const float *, const void *, size_t) = K->dot_f32_f16;
  const uint16_t *halves = base;
  const size_t row_bytes = n * sizeof(uint16_t);
  for (size_t i = 0; i < count; i++) {
    // The next row is fetched while this one is scored: graph search reads scattered rows, and
    // a row (768 bytes at n = 384) is several cache lines the hardware will not guess.
    if (i + 1 < count) {
      const char *next = (const char *)(halves + (size_t)rows[i + 1] * n);
      for (size_t offset = 0; offset < row_bytes; offset += 64) __builtin_prefetch(next + offset, 0, 3);
    }
    out[i] = dot(q, halves + (size_t)rows[i] * n, n);
  }
}
void tk_matvec_q4_float(int has_min, const uint8_t *data, size_t row_bytes, size_t blocks, const float *x,
                        const float *_Nullable block_sums, float *y, size_t r0, size_t r1) {
  K->matvec_q4_float(has_min, data, row_bytes, blocks, x, block_sums, y, r0, r1);
}
void tk_matvec_q8_0_float(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                          size_t r1) {
  K->matvec_q8_0_float(data, row_bytes, blocks, x, y, r0, r1);
}
void tk_matvec_q4_k(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0, size_t r1) {
  K->matvec_q4_k(data, row_bytes, blocks, x, y, r0, r1);
}
void tk_matvec_q6_k(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0, size_t r1) {
  K->matvec_q6_k(data, row_bytes, blocks, x, y, r0, r1);
}
void tk_exp(float *x, size_t n) { K->exp(x, n); }
void tk_erf(float *x, size_t n) { K->erf(x, n); }
void tk_bias_gelu(float *x, size_t rows, const float *bias, size_t columns) { K->bias_gelu(x, rows, bias, columns); }
void tk_softmax_rows(float *base, size_t rows, size_t count, size_t stride, float scale) {
  K->softmax_rows(base, rows, count, stride, scale);
}
void tk_softmax(float *x, size_t n) { K->softmax(x, n); }
void tk_swiglu(float *gate, const float *up, size_t n) { K->swiglu(gate, up, n); }
void tk_rms_norm(const float *x, const float *weight, float epsilon, size_t n, float *out) {
  K->rms_norm(x, weight, epsilon, n, out);
}
void tk_layer_norm(float *x, size_t rows, const float *gamma, const float *beta, size_t columns, float epsilon) {
  K->layer_norm(x, rows, gamma, beta, columns, epsilon);
}
float tk_sum(const float *x, size_t n) { return K->sum(x, n); }
float tk_sum_of_squares(const float *x, size_t n) { return K->sum_of_squares(x, n); }
void tk_add(const float *x, float *y, size_t n) { K->add(x, y, n); }
void tk_add3(const float *a, const float *b, float *y, size_t n) { K->add3(a, b, y, n); }
void tk_axpy(float a, const float *x, float *y, size_t n) { K->axpy(a, x, y, n); }
void tk_scale(float *x, float a, size_t n) { K->scale(x, a, n); }
void tk_attention_scores(const float *queries, size_t group, const void *keys, size_t stride, size_t first, size_t last,
                         float scale, float *scores, size_t score_stride) {
  K->attention_scores(queries, group, keys, stride, first, last, scale, scores, score_stride);
}
void tk_attention_weighted_sum(const float *weights, size_t weight_stride, size_t group, const void *values,
                               size_t stride, size_t length, size_t chunk, float *out) {
  K->attention_weighted_sum(weights, weight_stride, group, values, stride, length, chunk, out);
}
