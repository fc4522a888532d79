// Tome's SIMD kernels with run-time CPU dispatch.
//
// Every kernel is written once (kernels_body.h, clang vector extensions) and compiled three
// times with per-function target attributes: portable (the x86-64 baseline, or the host's
// baseline elsewhere), AVX2+FMA+F16C, and AVX-512 (F, BW, VL, DQ). No compiler flags are needed,
// so no target of the package uses unsafe flags and one binary runs on any x86-64 CPU.
// Callers pick a table with tk_kernels_for(tk_detect_level()) once and call through it.
#ifndef TOME_KERNELS_H
#define TOME_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Every pointer is non-null unless marked _Nullable (Swift imports them as non-optional).
#pragma clang assume_nonnull begin

/// Instruction-set levels, in increasing order.
typedef enum tk_level {
  TK_LEVEL_PORTABLE = 0,
  TK_LEVEL_AVX2 = 1,
  TK_LEVEL_AVX512 = 2,
} tk_level;

/// What CPUID (and XGETBV, for the OS's register support) says about this CPU.
typedef struct tk_cpu_info {
  char vendor[13];
  char brand[49];
  int family;
  int model;
  int stepping;
  // Feature bits; each is 1 only when the OS also saves the registers it needs.
  int sse3, ssse3, sse41, sse42, avx, avx2, fma, f16c;
  int avx512f, avx512bw, avx512vl, avx512dq, avx512cd, avx512vnni, avx512bf16, avx512fp16;
  int amx_tile, amx_bf16, amx_int8;
} tk_cpu_info;

/// Reads this CPU's identity and features. On non-x86 machines every field is zero.
void tk_cpu_identify(tk_cpu_info *info);

/// The best level this CPU and OS support.
tk_level tk_detect_level(void);

/// A prepared Q8 activation (see Q8Activation.swift): quantised values permuted for the
/// nibble and byte kernels, with per-block scales and sums.
typedef struct tk_q8 {
  int16_t *nibble_order;
  int16_t *byte_order;
  float *scales;
  float *sums;
  float *exact_sums;
  float *rounded;
  size_t count;
} tk_q8;

/// GGML block types the dispatch table can dequantise (ggml's type numbers).
enum { TK_GGML_F32 = 0, TK_GGML_F16 = 1, TK_GGML_Q4_0 = 2, TK_GGML_Q4_1 = 3, TK_GGML_Q8_0 = 8 };

/// One instruction-set level's kernels. Half-float buffers are `void *` (IEEE binary16).
typedef struct tk_kernels {
  tk_level level;

  // Half floats and rounding.
  void (*to_half)(const float *x, void *y, size_t n);
  void (*from_half)(const void *x, float *y, size_t n);
  void (*round_to_half)(float *x, size_t n);
  void (*round_like_q8)(const float *x, size_t n, float *out, float *_Nullable block_sums);
  /// Decodes `count` elements of a TK_GGML_* type; returns 0 for a type it does not handle.
  int (*dequantize)(int type, const void *src, size_t count, float *dst);

  // Quantised matrix-vector products against a prepared activation, rows [r0, r1).
  void (*q8_prepare)(const tk_q8 *a, const float *x, size_t n);
  void (*matvec_q4_1)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
  void (*matvec_q4_0)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
  void (*matvec_q8_0)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
  float (*dot_f32)(const float *a, const float *b, size_t n);
  float (*dot_f32_f16)(const float *q, const void *row, size_t n);

  // Float products against plain activations, rows [r0, r1): Q4_0/Q4_1 (`has_min` for Q4_1;
  // `block_sums` of x per 32, nullable), Q8_0, Q4_K and Q6_K. Each allocates its own scratch.
  void (*matvec_q4_float)(int has_min, const uint8_t *data, size_t row_bytes, size_t blocks, const float *x,
                          const float *_Nullable block_sums, float *y, size_t r0, size_t r1);
  void (*matvec_q8_0_float)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                            size_t r1);
  void (*matvec_q4_k)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                      size_t r1);
  void (*matvec_q6_k)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                      size_t r1);

  // Element-wise and row kernels.
  void (*exp)(float *x, size_t n);
  void (*erf)(float *x, size_t n);
  void (*bias_gelu)(float *x, size_t rows, const float *bias, size_t columns);
  void (*softmax_rows)(float *base, size_t rows, size_t count, size_t stride, float scale);
  void (*softmax)(float *x, size_t n);
  void (*swiglu)(float *gate, const float *up, size_t n);
  void (*rms_norm)(const float *x, const float *weight, float epsilon, size_t n, float *out);
  void (*layer_norm)(float *x, size_t rows, const float *gamma, const float *beta, size_t columns, float epsilon);
  float (*sum)(const float *x, size_t n);
  float (*sum_of_squares)(const float *x, size_t n);
  void (*add)(const float *x, float *y, size_t n);
  void (*add3)(const float *a, const float *b, float *y, size_t n); // y = a + b + y
  void (*axpy)(float a, const float *x, float *y, size_t n);
  void (*scale)(float *x, float a, size_t n);

  // Single-query attention over half-float keys/values (head dimension 64).
  void (*attention_scores)(const float *queries, size_t group, const void *keys, size_t stride, size_t first,
                           size_t last, float scale, float *scores, size_t score_stride);
  void (*attention_weighted_sum)(const float *weights, size_t weight_stride, size_t group, const void *values,
                                 size_t stride, size_t length, size_t chunk, float *out);
} tk_kernels;

/// The kernels of `level`; a level above what tk_detect_level() reports must not be used.
const tk_kernels *tk_kernels_for(tk_level level);

/// The table this process uses: chosen on first use, the detected level unless the
/// environment variable TOME_SIMD names a lower one (portable, avx2, avx512).
const tk_kernels *tk_active(void);
/// The level TOME_SIMD asked for, or -1 when it is unset or not a level name.
int tk_requested_level(void);

// The active table's kernels, one call each (see tk_kernels for what each does).
void tk_to_half(const float *x, void *y, size_t n);
void tk_from_half(const void *x, float *y, size_t n);
void tk_round_to_half(float *x, size_t n);
void tk_round_like_q8(const float *x, size_t n, float *out, float *_Nullable block_sums);
int tk_dequantize(int type, const void *src, size_t count, float *dst);
void tk_q8_prepare(const tk_q8 *a, const float *x, size_t n);
void tk_matvec_q4_1(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
void tk_matvec_q4_0(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
void tk_matvec_q8_0(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0, size_t r1);
float tk_dot_f32(const float *a, const float *b, size_t n);
float tk_dot_f32_f16(const float *q, const void *row, size_t n);
// tk_dot_f32_f16 of q with rows[0..count) of the row-major half-float matrix `base` (n columns),
// into out[0..count); each next row is prefetched while the current one is scored.
void tk_dot_f32_f16_rows(const float *q, const void *base, size_t n, const uint32_t *rows, size_t count, float *out);
void tk_matvec_q4_float(int has_min, const uint8_t *data, size_t row_bytes, size_t blocks, const float *x,
                        const float *_Nullable block_sums, float *y, size_t r0, size_t r1);
void tk_matvec_q8_0_float(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                          size_t r1);
void tk_matvec_q4_k(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0, size_t r1);
void tk_matvec_q6_k(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0, size_t r1);
void tk_exp(float *x, size_t n);
void tk_erf(float *x, size_t n);
void tk_bias_gelu(float *x, size_t rows, const float *bias, size_t columns);
void tk_softmax_rows(float *base, size_t rows, size_t count, size_t stride, float scale);
void tk_softmax(float *x, size_t n);
void tk_swiglu(float *gate, const float *up, size_t n);
void tk_rms_norm(const float *x, const float *weight, float epsilon, size_t n, float *out);
void tk_layer_norm(float *x, size_t rows, const float *gamma, const float *beta, size_t columns, float epsilon);
float tk_sum(const float *x, size_t n);
float tk_sum_of_squares(const float *x, size_t n);
void tk_add(const float *x, float *y, size_t n);
void tk_add3(const float *a, const float *b, float *y, size_t n);
void tk_axpy(float a, const float *x, float *y, size_t n);
void tk_scale(float *x, float a, size_t n);
void tk_attention_scores(const float *queries, size_t group, const void *keys, size_t stride, size_t first, size_t last,
                         float scale, float *scores, size_t score_stride);
void tk_attention_weighted_sum(const float *weights, size_t weight_stride, size_t group, const void *values,
                               size_t stride, size_t length, size_t chunk, float *out);

#pragma clang assume_nonnull end

#ifdef __cplusplus
}
#endif
#endif
