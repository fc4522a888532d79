// The kernels, written once. Included by kernels_portable.c, kernels_avx2.c and
// kernels_avx512.c inside a `#pragma clang attribute` region that gives every function here the
// level's target features; TK_SUFFIX names the copy and TK_FUSED says whether the level has FMA.
//
// Floating-point contraction is off: a fused multiply-add is written as MADD where the
// algorithm wants one (the Swift kernels' addProduct), and every other product is rounded on
// its own, so the fused levels give the same results as the Swift kernels they replace. On the
// portable level MADD is a multiply and an add (a library fmaf call per lane would be 30×
// slower, PERFORMANCE.md).
#pragma clang fp contract(off)
#pragma clang diagnostic ignored "-Wpsabi"
#pragma clang diagnostic ignored "-Wnullability-completeness"

#include <stdlib.h>
#include <string.h>
#include "tome_kernels.h"

#define TK_INLINE static inline __attribute__((always_inline))

#define TK_CAT2(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT2(a, b)
#define FN(name) TK_CAT(name, TK_SUFFIX)

#if TK_FUSED
#define MADD(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#else
#define MADD(a, b, c) ((a) * (b) + (c))
#endif

typedef float f32x4 __attribute__((ext_vector_type(4)));
typedef float f32x8 __attribute__((ext_vector_type(8)));
typedef float f32x16 __attribute__((ext_vector_type(16)));
typedef _Float16 f16x4 __attribute__((ext_vector_type(4)));
typedef _Float16 f16x16 __attribute__((ext_vector_type(16)));
typedef int16_t i16x16 __attribute__((ext_vector_type(16)));
typedef uint16_t u16x8 __attribute__((ext_vector_type(8)));
typedef uint16_t u16x16 __attribute__((ext_vector_type(16)));
typedef int32_t i32x8 __attribute__((ext_vector_type(8)));
typedef int32_t i32x16 __attribute__((ext_vector_type(16)));
typedef uint32_t u32x16 __attribute__((ext_vector_type(16)));

// MARK: loads, stores, reductions

TK_INLINE f32x16 FN(ld16)(const float *p) { f32x16 v; memcpy(&v, p, sizeof v); return v; }
TK_INLINE void FN(st16)(float *p, f32x16 v) { memcpy(p, &v, sizeof v); }
TK_INLINE i16x16 FN(ldi16)(const int16_t *p) { i16x16 v; memcpy(&v, p, sizeof v); return v; }
TK_INLINE f32x16 FN(ldh16)(const uint16_t *p) {
  f16x16 h;
  memcpy(&h, p, sizeof h);
  return __builtin_convertvector(h, f32x16);
}
TK_INLINE float FN(half)(const uint8_t *p) { _Float16 h; memcpy(&h, p, 2); return (float)h; }
TK_INLINE float FN(hsum4)(f32x4 v) { return (v.x + v.y) + (v.z + v.w); }
TK_INLINE float FN(hsum8)(f32x8 v) { return FN(hsum4)(v.lo + v.hi); }
TK_INLINE float FN(hsum16)(f32x16 v) { return FN(hsum8)(v.lo + v.hi); }
TK_INLINE float FN(hmax16)(f32x16 v) {
  f32x8 a = __builtin_elementwise_max(v.lo, v.hi);
  f32x4 b = __builtin_elementwise_max(a.lo, a.hi);
  float m = b.x;
  if (b.y > m) m = b.y;
  if (b.z > m) m = b.z;
  if (b.w > m) m = b.w;
  return m;
}
TK_INLINE f32x16 FN(splat16)(float x) { return (f32x16)x; }
TK_INLINE f32x8 FN(halves8)(float lo, float hi) {
  return (f32x8){lo, lo, lo, lo, hi, hi, hi, hi};
}

// MARK: half floats

static void FN(to_half)(const float *x, void *yv, size_t n) {
  uint16_t *y = (uint16_t *)yv;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f16x16 h = __builtin_convertvector(FN(ld16)(x + i), f16x16);
    memcpy(y + i, &h, sizeof h);
  }
  for (; i < n; i++) {
    _Float16 h = (_Float16)x[i];
    memcpy(y + i, &h, 2);
  }
}

static void FN(from_half)(const void *xv, float *y, size_t n) {
  const uint16_t *x = (const uint16_t *)xv;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) FN(st16)(y + i, FN(ldh16)(x + i));
  for (; i < n; i++) y[i] = FN(half)((const uint8_t *)(x + i));
}

static void FN(round_to_half)(float *x, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f16x16 h = __builtin_convertvector(FN(ld16)(x + i), f16x16);
    FN(st16)(x + i, __builtin_convertvector(h, f32x16));
  }
  for (; i < n; i++) x[i] = (float)(_Float16)x[i];
}

// MARK: Q8 rounding of activations (llama.cpp's quantize_row_q8_1)

/// Rounds one block of 32: returns q0, q1 (integers as floats), and d (unrounded scale).
TK_INLINE void FN(q8_block)(const float *x, f32x16 *q0, f32x16 *q1, float *d) {
  f32x16 a0 = FN(ld16)(x), a1 = FN(ld16)(x + 16);
  f32x16 m0 = __builtin_elementwise_abs(a0), m1 = __builtin_elementwise_abs(a1);
  float amax = FN(hmax16)(__builtin_elementwise_max(m0, m1));
  float dd = amax / 127;
  float id = dd != 0 ? 1 / dd : 0;
  f32x16 magic = FN(splat16)(12582912.0f), idv = FN(splat16)(id);
  *q0 = (a0 * idv + magic) - magic;
  *q1 = (a1 * idv + magic) - magic;
  *d = dd;
}

static void FN(round_like_q8)(const float *x, size_t n, float *out, float *_Nullable block_sums) {
  for (size_t b = 0; b < n / 32; b++) {
    f32x16 q0, q1;
    float d;
    FN(q8_block)(x + 32 * b, &q0, &q1, &d);
    float dh = (float)(_Float16)d;
    FN(st16)(out + 32 * b, q0 * dh);
    FN(st16)(out + 32 * b + 16, q1 * dh);
    if (block_sums) block_sums[b] = (float)(_Float16)(d * FN(hsum16)(q0 + q1));
  }
}

/// Element of a block that lane i (0…7) of nibble vector k (0…3) multiplies.
TK_INLINE int FN(nibble_element)(int k, int i) { return 2 * i + ((k & 2) ? 1 : 0) + ((k & 1) ? 16 : 0); }

static void FN(q8_prepare)(const tk_q8 *a, const float *x, size_t n) {
  size_t blocks = n / 32;
  for (size_t b = 0; b < blocks; b++) {
    f32x16 q0, q1;
    float d;
    FN(q8_block)(x + 32 * b, &q0, &q1, &d);
    float dh = (float)(_Float16)d;
    // A NaN or infinite input (damaged weights) has no integer value: the block becomes zeros
    // with a NaN scale, so the NaN reaches the logits, where the caller can see it.
    if (__builtin_reduce_or((q0 != q0) | (q1 != q1))) {
      q0 = 0;
      q1 = 0;
      dh = __builtin_nanf("");
    }
    float total = FN(hsum16)(q0 + q1);
    a->scales[b] = dh;
    a->sums[b] = dh != dh ? dh : (float)(_Float16)(d * total);
    a->exact_sums[b] = dh * total;
    FN(st16)(a->rounded + 32 * b, q0 * dh);
    FN(st16)(a->rounded + 32 * b + 16, q1 * dh);
    int16_t q[32];
    i32x16 i0 = __builtin_convertvector(q0, i32x16), i1 = __builtin_convertvector(q1, i32x16);
    for (int i = 0; i < 16; i++) {
      q[i] = (int16_t)i0[i];
      q[i + 16] = (int16_t)i1[i];
    }
    int16_t *bo = a->byte_order + 32 * b;
    for (int i = 0; i < 16; i++) {
      bo[i] = q[2 * i];
      bo[16 + i] = q[2 * i + 1];
    }
    int16_t *no = a->nibble_order + 64 * (b / 2);
    size_t h = b % 2;
    for (int k = 0; k < 4; k++)
      for (int i = 0; i < 8; i++) no[16 * k + 8 * h + i] = q[FN(nibble_element)(k, i)];
  }
  if (blocks % 2 == 1) {
    int16_t *no = a->nibble_order + 64 * (blocks / 2);
    for (int k = 0; k < 4; k++)
      for (int i = 0; i < 8; i++) no[16 * k + 8 + i] = 0;
  }
}

// MARK: integer dot products

/// 16-bit products of one pair of 4-bit blocks (b0's quants in lanes 0–7, b1's in 8–15)
/// against the activation's nibble-ordered values, widened to 8 float lanes (0–3: b0, 4–7: b1).
TK_INLINE f32x8 FN(nibble_pair)(const uint8_t *q0, const uint8_t *q1, i16x16 x0, i16x16 x1, i16x16 x2, i16x16 x3) {
  u16x8 lo, hi;
  memcpy(&lo, q0, 16);
  memcpy(&hi, q1, 16);
  u16x16 v = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  i16x16 s = (i16x16)(v & 0x0F) * x0;
  s += (i16x16)((v >> 4) & 0x0F) * x1;
  s += (i16x16)((v >> 8) & 0x0F) * x2;
  s += (i16x16)(v >> 12) * x3;
  i32x8 w = (i32x8)s;
  i32x8 s32 = ((w << 16) >> 16) + (w >> 16);
  return __builtin_convertvector(s32, f32x8);
}

/// Σ_b d_w·d_x·Σ n·q over a 4-bit row (Q4_0 or Q4_1 layout, unsigned nibbles).
TK_INLINE float FN(nibble_dot)(const uint8_t *row, size_t block_bytes, size_t quant_offset, const tk_q8 *a,
                                   size_t blocks) {
  f32x8 acc = 0;
  size_t pairs = (blocks + 1) / 2;
  for (size_t pair = 0; pair < pairs; pair++) {
    size_t b0 = 2 * pair, b1 = b0 + 1 < blocks ? b0 + 1 : blocks - 1;
    const uint8_t *p0 = row + block_bytes * b0, *p1 = row + block_bytes * b1;
    const int16_t *xb = a->nibble_order + 64 * pair;
    f32x8 f = FN(nibble_pair)(p0 + quant_offset, p1 + quant_offset, FN(ldi16)(xb), FN(ldi16)(xb + 16),
                              FN(ldi16)(xb + 32), FN(ldi16)(xb + 48));
    float d0 = FN(half)(p0) * a->scales[b0];
    float d1 = b0 + 1 < blocks ? FN(half)(p1) * a->scales[b0 + 1] : 0;
    acc = MADD(f, FN(halves8)(d0, d1), acc);
  }
  return FN(hsum8)(acc);
}

/// (d, m) of two Q4_1 blocks: [d0, m0, d1, m1].
TK_INLINE f32x4 FN(q4_1_headers)(const uint8_t *p0, const uint8_t *p1) {
  f16x4 h;
  memcpy(&h, p0, 4);
  memcpy((char *)&h + 4, p1, 4);
  return __builtin_convertvector(h, f32x4);
}

/// Two Q4_1 rows at once, sharing the activation loads; each block pair's (d, m) headers are
/// converted together and the min term m·Σx rides along in the main loop.
TK_INLINE void FN(dot_q4_1x2)(const uint8_t *r0, const uint8_t *r1, const tk_q8 *a, size_t blocks, float *y0,
                                  float *y1) {
  f32x8 acc0 = 0, acc1 = 0;
  f32x4 mins0 = 0, mins1 = 0;
  size_t pairs = (blocks + 1) / 2;
  for (size_t pair = 0; pair < pairs; pair++) {
    size_t b0 = 2 * pair, b1 = b0 + 1 < blocks ? b0 + 1 : blocks - 1;
    int second = b0 + 1 < blocks;
    const int16_t *xb = a->nibble_order + 64 * pair;
    i16x16 x0 = FN(ldi16)(xb), x1 = FN(ldi16)(xb + 16), x2 = FN(ldi16)(xb + 32), x3 = FN(ldi16)(xb + 48);
    f32x4 factors = {a->scales[b0], a->sums[b0], second ? a->scales[b0 + 1] : 0, second ? a->sums[b0 + 1] : 0};
    f32x4 h0 = FN(q4_1_headers)(r0 + 20 * b0, r0 + 20 * b1) * factors;
    acc0 = MADD(FN(nibble_pair)(r0 + 20 * b0 + 4, r0 + 20 * b1 + 4, x0, x1, x2, x3), FN(halves8)(h0.x, h0.z), acc0);
    mins0 += h0;
    f32x4 h1 = FN(q4_1_headers)(r1 + 20 * b0, r1 + 20 * b1) * factors;
    acc1 = MADD(FN(nibble_pair)(r1 + 20 * b0 + 4, r1 + 20 * b1 + 4, x0, x1, x2, x3), FN(halves8)(h1.x, h1.z), acc1);
    mins1 += h1;
  }
  *y0 = FN(hsum8)(acc0) + (mins0.y + mins0.w);
  *y1 = FN(hsum8)(acc1) + (mins1.y + mins1.w);
}

static void FN(matvec_q4_1)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0,
                            size_t r1) {
  size_t r = r0;
  for (; r + 1 < r1; r += 2) {
    const uint8_t *p = data + r * row_bytes;
    FN(dot_q4_1x2)(p, p + row_bytes, a, blocks, y + r, y + r + 1);
  }
  if (r < r1) {
    const uint8_t *p = data + r * row_bytes;
    float mins = 0;
    for (size_t b = 0; b < blocks; b++) mins += FN(half)(p + 20 * b + 2) * a->sums[b];
    y[r] = FN(nibble_dot)(p, 20, 4, a, blocks) + mins;
  }
}

static void FN(matvec_q4_0)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0,
                            size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *p = data + r * row_bytes;
    float offs = 0;
    for (size_t b = 0; b < blocks; b++) offs += 8 * FN(half)(p + 18 * b) * a->exact_sums[b];
    y[r] = FN(nibble_dot)(p, 18, 2, a, blocks) - offs;
  }
}

/// One Q8_0 block's 16-bit products (two per lane before widening, so |sum| ≤ 2·127² fits)
/// against the activation's byte-ordered values, widened to 8 float lanes.
TK_INLINE f32x8 FN(q8_0_block)(const uint8_t *p, const int16_t *xb) {
  i16x16 v;
  memcpy(&v, p + 2, 32);
  i16x16 lo = (v << 8) >> 8, hi = v >> 8;
  i16x16 s = lo * FN(ldi16)(xb) + hi * FN(ldi16)(xb + 16);
  i32x8 w = (i32x8)s;
  return __builtin_convertvector(((w << 16) >> 16) + (w >> 16), f32x8);
}

/// Σ_b d_w·d_x·Σ w·q over Q8_0 rows, in two accumulator chains (even and odd blocks) so that
/// consecutive blocks' multiply-adds do not wait on each other.
static void FN(matvec_q8_0)(const uint8_t *data, size_t row_bytes, size_t blocks, const tk_q8 *a, float *y, size_t r0,
                            size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = data + r * row_bytes;
    f32x8 acc0 = 0, acc1 = 0;
    size_t b = 0;
    for (; b + 1 < blocks; b += 2) {
      const uint8_t *p = row + 34 * b;
      acc0 = MADD(FN(q8_0_block)(p, a->byte_order + 32 * b), (f32x8)(FN(half)(p) * a->scales[b]), acc0);
      acc1 = MADD(FN(q8_0_block)(p + 34, a->byte_order + 32 * b + 32), (f32x8)(FN(half)(p + 34) * a->scales[b + 1]),
                  acc1);
    }
    if (b < blocks) {
      const uint8_t *p = row + 34 * b;
      acc0 = MADD(FN(q8_0_block)(p, a->byte_order + 32 * b), (f32x8)(FN(half)(p) * a->scales[b]), acc0);
    }
    y[r] = FN(hsum8)(acc0 + acc1);
  }
}

static float FN(dot_f32)(const float *a, const float *b, size_t n) {
  f32x16 acc0 = 0, acc1 = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = MADD(FN(ld16)(a + i), FN(ld16)(b + i), acc0);
    acc1 = MADD(FN(ld16)(a + i + 16), FN(ld16)(b + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = MADD(FN(ld16)(a + i), FN(ld16)(b + i), acc0);
  float s = FN(hsum16)(acc0 + acc1);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// MARK: float kernels (rows without a prepared Q8 activation, and the K-quant formats)
//
// The quants are read as 8 × 32-bit lanes and shifted to expose one nibble (or byte) per lane;
// instead of shuffling weights, the activations are permuted once per call to that order.

typedef uint32_t u32x8 __attribute__((ext_vector_type(8)));

TK_INLINE f32x8 FN(ld8)(const float *p) { f32x8 v; memcpy(&v, p, sizeof v); return v; }
TK_INLINE f32x8 FN(small8)(u32x8 v) { return __builtin_convertvector((i32x8)v, f32x8); }

static void FN(block_sums)(const float *x, size_t blocks, float *s) {
  for (size_t b = 0; b < blocks; b++) s[b] = FN(hsum16)(FN(ld16)(x + 32 * b) + FN(ld16)(x + 32 * b + 16));
}

/// Q4_0/Q4_1 order: for each pair of blocks, 8 vectors of 8 (lanes 0–3 from the first block,
/// 4–7 from the second; lane j of vector s is element 4j + s/2 (+16 for odd s)); odd tails 0.
static void FN(permute_nibbles)(const float *x, size_t blocks, float *xp) {
  for (size_t pair = 0; pair < (blocks + 1) / 2; pair++)
    for (size_t h = 0; h < 2; h++) {
      size_t b = 2 * pair + h;
      for (size_t sh = 0; sh < 8; sh++)
        for (size_t j = 0; j < 4; j++) {
          size_t e = 4 * j + sh / 2 + (sh % 2 ? 16 : 0);
          xp[pair * 64 + sh * 8 + h * 4 + j] = b < blocks ? x[32 * b + e] : 0;
        }
    }
}

/// Σ_b d_b·Σ n·x over a Q4_0/Q4_1 row (nibbles unsigned), against `permute_nibbles` order.
TK_INLINE float FN(nibble_dot_float)(const uint8_t *row, size_t block_bytes, size_t quant_offset, const float *xp,
                                     size_t blocks) {
  f32x8 acc = 0;
  for (size_t pair = 0; pair < (blocks + 1) / 2; pair++) {
    size_t b0 = 2 * pair, b1 = b0 + 1 < blocks ? b0 + 1 : blocks - 1;
    const uint8_t *p0 = row + block_bytes * b0, *p1 = row + block_bytes * b1;
    uint32_t lanes[8];
    memcpy(lanes, p0 + quant_offset, 16);
    memcpy(lanes + 4, p1 + quant_offset, 16);
    u32x8 v;
    memcpy(&v, lanes, sizeof v);
    const float *xb = xp + 64 * pair;
    f32x8 t = 0;
    for (uint32_t s = 0; s < 8; s++) t = MADD(FN(small8)((v >> (4 * s)) & 0x0F), FN(ld8)(xb + 8 * s), t);
    float d0 = FN(half)(p0), d1 = b0 + 1 < blocks ? FN(half)(p1) : 0;
    acc = MADD(t, FN(halves8)(d0, d1), acc);
  }
  return FN(hsum8)(acc);
}

static void FN(matvec_q4_float)(int has_min, const uint8_t *data, size_t row_bytes, size_t blocks, const float *x,
                                const float *_Nullable block_sums, float *y, size_t r0, size_t r1) {
  size_t padded = (blocks + 1) / 2 * 64;
  float *xp = (float *)malloc((padded + blocks) * sizeof(float));
  if (!xp) return;
  float *sums = xp + padded;
  FN(permute_nibbles)(x, blocks, xp);
  if (block_sums) memcpy(sums, block_sums, blocks * sizeof(float));
  else FN(block_sums)(x, blocks, sums);
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *p = data + r * row_bytes;
    if (has_min) {
      float mins = 0;
      for (size_t b = 0; b < blocks; b++) mins += FN(half)(p + 20 * b + 2) * sums[b];
      y[r] = FN(nibble_dot_float)(p, 20, 4, xp, blocks) + mins;
    } else {
      float offs = 0;
      for (size_t b = 0; b < blocks; b++) offs += 8 * FN(half)(p + 18 * b) * sums[b];
      y[r] = FN(nibble_dot_float)(p, 18, 2, xp, blocks) - offs;
    }
  }
  free(xp);
}

/// Q8_0 rows against activations permuted so lane j of vector s is element 4j + s.
static void FN(matvec_q8_0_float)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y,
                                  size_t r0, size_t r1) {
  float *xp = (float *)malloc(blocks * 32 * sizeof(float));
  if (!xp) return;
  for (size_t b = 0; b < blocks; b++)
    for (size_t sh = 0; sh < 4; sh++)
      for (size_t j = 0; j < 8; j++) xp[b * 32 + sh * 8 + j] = x[32 * b + 4 * j + sh];
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = data + r * row_bytes;
    f32x8 acc = 0;
    for (size_t b = 0; b < blocks; b++) {
      const uint8_t *p = row + 34 * b;
      i32x8 v;
      memcpy(&v, p + 2, 32);
      f32x8 t = 0;
      for (int s = 0; s < 4; s++) {
        i32x8 n = (v << (24 - 8 * s)) >> 24;
        t = MADD(__builtin_convertvector(n, f32x8), FN(ld8)(xp + 32 * b + 8 * s), t);
      }
      acc = MADD(t, (f32x8)FN(half)(p), acc);
    }
    y[r] = FN(hsum8)(acc);
  }
  free(xp);
}

/// Q4_K/Q6_K order: per 64-element group, 4 vectors of 8 for the low sub-block (lane i of
/// vector k = element 4i + k), then 4 for the high one.
static void FN(permute_k)(const float *x, size_t count, float *xp) {
  for (size_t g = 0; g < count / 64; g++)
    for (size_t h = 0; h < 2; h++)
      for (size_t k = 0; k < 4; k++)
        for (size_t i = 0; i < 8; i++) xp[64 * g + 32 * h + 8 * k + i] = x[64 * g + 32 * h + 4 * i + k];
}

/// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K `scales[12]` array.
TK_INLINE void FN(scale_min_k4)(int j, const uint8_t *q, float *scale, float *min) {
  if (j < 4) {
    *scale = (float)(q[j] & 63);
    *min = (float)(q[j + 4] & 63);
  } else {
    *scale = (float)((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    *min = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

static void FN(matvec_q4_k)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                            size_t r1) {
  size_t count = 256 * blocks;
  float *xp = (float *)malloc((count + count / 32) * sizeof(float));
  if (!xp) return;
  float *sums = xp + count;
  FN(permute_k)(x, count, xp);
  FN(block_sums)(x, count / 32, sums);
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = data + r * row_bytes;
    f32x8 acc = 0;
    float mins = 0;
    for (size_t b = 0; b < blocks; b++) {
      const uint8_t *p = row + 144 * b;
      float d = FN(half)(p), dmin = FN(half)(p + 2);
      for (int j = 0; j < 4; j++) {
        float sc1, m1, sc2, m2;
        FN(scale_min_k4)(2 * j, p + 4, &sc1, &m1);
        FN(scale_min_k4)(2 * j + 1, p + 4, &sc2, &m2);
        u32x8 v;
        memcpy(&v, p + 16 + 32 * j, 32);
        const float *xb = xp + 256 * b + 64 * j;
        f32x8 tl = 0, th = 0;
        for (uint32_t k = 0; k < 4; k++) {
          tl = MADD(FN(small8)((v >> (8 * k)) & 0x0F), FN(ld8)(xb + 8 * k), tl);
          th = MADD(FN(small8)((v >> (8 * k + 4)) & 0x0F), FN(ld8)(xb + 32 + 8 * k), th);
        }
        acc = MADD(tl, (f32x8)(d * sc1), acc);
        acc = MADD(th, (f32x8)(d * sc2), acc);
        mins += dmin * (m1 * sums[8 * b + 2 * j] + m2 * sums[8 * b + 2 * j + 1]);
      }
    }
    y[r] = FN(hsum8)(acc) - mins;
  }
  free(xp);
}

static void FN(matvec_q6_k)(const uint8_t *data, size_t row_bytes, size_t blocks, const float *x, float *y, size_t r0,
                            size_t r1) {
  size_t count = 256 * blocks;
  float *xp = (float *)malloc(count * sizeof(float));
  if (!xp) return;
  FN(permute_k)(x, count, xp);
  for (size_t r = r0; r < r1; r++) {
    const uint8_t *row = data + r * row_bytes;
    f32x8 acc = 0;
    for (size_t b = 0; b < blocks; b++) {
      const uint8_t *p = row + 210 * b;
      float d = FN(half)(p + 208);
      for (int n = 0; n < 2; n++) {
        u32x8 a, c, h;
        memcpy(&a, p + 64 * n, 32);
        memcpy(&c, p + 64 * n + 32, 32);
        memcpy(&h, p + 128 + 32 * n, 32);
        const float *xb = xp + 256 * b + 128 * n;
        f32x8 t1 = 0, t2 = 0, t3 = 0, t4 = 0;
        for (uint32_t k = 0; k < 4; k++) {
          uint32_t s = 8 * k;
          u32x8 q1 = ((a >> s) & 0x0F) | (((h >> s) & 3) << 4);
          u32x8 q2 = ((c >> s) & 0x0F) | (((h >> (s + 2)) & 3) << 4);
          u32x8 q3 = ((a >> (s + 4)) & 0x0F) | (((h >> (s + 4)) & 3) << 4);
          u32x8 q4 = ((c >> (s + 4)) & 0x0F) | (((h >> (s + 6)) & 3) << 4);
          t1 = MADD(FN(small8)(q1) - 32, FN(ld8)(xb + 8 * k), t1);
          t2 = MADD(FN(small8)(q2) - 32, FN(ld8)(xb + 32 + 8 * k), t2);
          t3 = MADD(FN(small8)(q3) - 32, FN(ld8)(xb + 64 + 8 * k), t3);
          t4 = MADD(FN(small8)(q4) - 32, FN(ld8)(xb + 96 + 8 * k), t4);
        }
        const int8_t *sc = (const int8_t *)(p + 192 + 8 * n);
        acc = MADD(t1, FN(halves8)(d * sc[0], d * sc[1]), acc);
        acc = MADD(t2, FN(halves8)(d * sc[2], d * sc[3]), acc);
        acc = MADD(t3, FN(halves8)(d * sc[4], d * sc[5]), acc);
        acc = MADD(t4, FN(halves8)(d * sc[6], d * sc[7]), acc);
      }
    }
    y[r] = FN(hsum8)(acc);
  }
  free(xp);
}

/// Σ q[i]·row[i] with `row` in half floats: the distance kernel of the graph indexes (one call
/// per visited node), where the half-float conversion must be one instruction (F16C).
static float FN(dot_f32_f16)(const float *q, const void *row_data, size_t n) {
  const uint16_t *row = (const uint16_t *)row_data;
  f32x16 acc0 = 0, acc1 = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = MADD(FN(ld16)(q + i), FN(ldh16)(row + i), acc0);
    acc1 = MADD(FN(ld16)(q + i + 16), FN(ldh16)(row + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = MADD(FN(ld16)(q + i), FN(ldh16)(row + i), acc0);
  float s = FN(hsum16)(acc0 + acc1);
  for (; i < n; i++) s += q[i] * FN(half)((const uint8_t *)(row + i));
  return s;
}

// MARK: dequantisation

static int FN(dequantize)(int type, const void *source, size_t count, float *y) {
  const uint8_t *src = (const uint8_t *)source;
  size_t blocks = count / 32;
  switch (type) {
  case TK_GGML_F32:
    memcpy(y, src, count * sizeof(float));
    return 1;
  case TK_GGML_F16:
    FN(from_half)(source, y, count);
    return 1;
  case TK_GGML_Q4_0:
  case TK_GGML_Q4_1: {
    int has_min = type == TK_GGML_Q4_1;
    size_t bpb = has_min ? 20 : 18, qo = has_min ? 4 : 2;
    for (size_t b = 0; b < blocks; b++) {
      const uint8_t *p = src + b * bpb;
      float d = FN(half)(p), m = has_min ? FN(half)(p + 2) : -8 * d;
      uint8_t qb[16];
      memcpy(qb, p + qo, 16);
      f32x16 lo, hi;
      for (int j = 0; j < 16; j++) {
        lo[j] = (float)(qb[j] & 0x0F);
        hi[j] = (float)(qb[j] >> 4);
      }
      if (has_min) {
        FN(st16)(y + 32 * b, lo * d + m);
        FN(st16)(y + 32 * b + 16, hi * d + m);
      } else {
        FN(st16)(y + 32 * b, (lo - 8) * d);
        FN(st16)(y + 32 * b + 16, (hi - 8) * d);
      }
    }
    return 1;
  }
  case TK_GGML_Q8_0:
    for (size_t b = 0; b < blocks; b++) {
      const uint8_t *p = src + 34 * b;
      float d = FN(half)(p);
      int8_t qb[32];
      memcpy(qb, p + 2, 32);
      f32x16 lo, hi;
      for (int j = 0; j < 16; j++) {
        lo[j] = (float)qb[j];
        hi[j] = (float)qb[j + 16];
      }
      FN(st16)(y + 32 * b, lo * d);
      FN(st16)(y + 32 * b + 16, hi * d);
    }
    return 1;
  default:
    return 0;
  }
}

// MARK: exp, erf, GELU, softmax

/// e^x for 16 lanes (Cephes expf polynomial, range reduction by ln 2 in two parts); inputs are
/// clamped to [-87.3, 88.3], so the result is a normal finite float, relative error ~2 ulp.
TK_INLINE f32x16 FN(exp16)(f32x16 v) {
  f32x16 x = __builtin_elementwise_min(__builtin_elementwise_max(v, FN(splat16)(-87.3f)), FN(splat16)(88.3f));
  f32x16 magic = FN(splat16)(12582912.0f);
  f32x16 t = MADD(x, FN(splat16)(1.4426950408889634f), magic);
  f32x16 n = t - magic;
  f32x16 r = MADD(n, FN(splat16)(-0.693359375f), x);
  r = MADD(n, FN(splat16)(2.1219444005469058e-4f), r);
  f32x16 p = FN(splat16)(1.9875691500e-4f);
  p = MADD(p, r, FN(splat16)(1.3981999507e-3f));
  p = MADD(p, r, FN(splat16)(8.3334519073e-3f));
  p = MADD(p, r, FN(splat16)(4.1665795894e-2f));
  p = MADD(p, r, FN(splat16)(1.6666665459e-1f));
  p = MADD(p, r, FN(splat16)(5.0000001201e-1f));
  p = MADD(p, r * r, r + 1);
  u32x16 bits = (u32x16)t;
  u32x16 scale = (bits + (uint32_t)(127 - 0x4B400000)) << 23;
  return p * (f32x16)scale;
}

/// erf for 16 lanes: the rational minimax approximation on [-4, 4] that Eigen and XLA use
/// (max absolute error ~4e-7); |x| > 4 gives ±1.
TK_INLINE f32x16 FN(erf16)(f32x16 v) {
  f32x16 x = __builtin_elementwise_min(__builtin_elementwise_max(v, FN(splat16)(-4.0f)), FN(splat16)(4.0f));
  f32x16 x2 = x * x;
  f32x16 p = FN(splat16)(-2.72614225801306e-10f);
  p = MADD(p, x2, FN(splat16)(2.77068142495902e-08f));
  p = MADD(p, x2, FN(splat16)(-2.10102402082508e-06f));
  p = MADD(p, x2, FN(splat16)(-5.69250639462346e-05f));
  p = MADD(p, x2, FN(splat16)(-7.34990630326855e-04f));
  p = MADD(p, x2, FN(splat16)(-2.95459980854025e-03f));
  p = MADD(p, x2, FN(splat16)(-1.60960333262415e-02f));
  f32x16 q = FN(splat16)(-1.45660718464996e-05f);
  q = MADD(q, x2, FN(splat16)(-2.13374055278905e-04f));
  q = MADD(q, x2, FN(splat16)(-1.68282697438203e-03f));
  q = MADD(q, x2, FN(splat16)(-7.37332916720468e-03f));
  q = MADD(q, x2, FN(splat16)(-1.42647390514189e-02f));
  return x * p / q;
}

TK_INLINE f32x16 FN(gelu16)(f32x16 x) {
  f32x16 e = FN(erf16)(x * 0.7071067811865475f);
  f32x16 h = x * 0.5f;
  return MADD(h, e, h);
}

/// Applies f to every element in place; the tail goes through one padded vector.
#define TK_MAP(x, n, f)                                              \
  do {                                                               \
    size_t i_ = 0;                                                   \
    for (; i_ + 16 <= (n); i_ += 16) FN(st16)((x) + i_, f(FN(ld16)((x) + i_))); \
    if (i_ < (n)) {                                                  \
      f32x16 t_ = 0;                                                 \
      for (size_t j_ = i_; j_ < (n); j_++) t_[j_ - i_] = (x)[j_];    \
      f32x16 r_ = f(t_);                                             \
      for (size_t j_ = i_; j_ < (n); j_++) (x)[j_] = r_[j_ - i_];    \
    }                                                                \
  } while (0)

static void FN(exp)(float *x, size_t n) { TK_MAP(x, n, FN(exp16)); }
static void FN(erf)(float *x, size_t n) { TK_MAP(x, n, FN(erf16)); }

static void FN(bias_gelu)(float *x, size_t rows, const float *bias, size_t columns) {
  size_t end = columns & ~(size_t)15;
  for (size_t row = 0; row < rows; row++) {
    float *r = x + row * columns;
    size_t j = 0;
    for (; j < end; j += 16) FN(st16)(r + j, FN(gelu16)(FN(ld16)(r + j) + FN(ld16)(bias + j)));
    if (j < columns) {
      f32x16 t = 0;
      for (size_t k = j; k < columns; k++) t[k - j] = r[k] + bias[k];
      f32x16 g = FN(gelu16)(t);
      for (size_t k = j; k < columns; k++) r[k] = g[k - j];
    }
  }
}

/// Softmax of `count` values at r, after multiplying by `scale` (max subtracted first).
TK_INLINE void FN(softmax_one)(float *r, size_t count, float scale) {
  size_t end = count & ~(size_t)15;
  f32x16 m = FN(splat16)(-3.4028234663852886e38f);
  size_t j = 0;
  for (; j < end; j += 16) {
    m = __builtin_elementwise_max(FN(ld16)(r + j), m);
  }
  float max = FN(hmax16)(m);
  for (; j < count; j++)
    if (r[j] > max) max = r[j];
  f32x16 s = FN(splat16)(scale), shift = FN(splat16)(-scale * max), sum = 0;
  for (j = 0; j < end; j += 16) {
    f32x16 e = FN(exp16)(MADD(FN(ld16)(r + j), s, shift));
    FN(st16)(r + j, e);
    sum += e;
  }
  if (j < count) {
    f32x16 t = FN(splat16)(-__builtin_inff());
    for (size_t k = j; k < count; k++) t[k - j] = r[k];
    f32x16 e = FN(exp16)(MADD(t, s, shift));
    for (size_t k = count - j; k < 16; k++) e[k] = 0;
    for (size_t k = j; k < count; k++) r[k] = e[k - j];
    sum += e;
  }
  float inverse = 1 / FN(hsum16)(sum);
  for (j = 0; j < end; j += 16) FN(st16)(r + j, FN(ld16)(r + j) * inverse);
  for (; j < count; j++) r[j] *= inverse;
}

static void FN(softmax_rows)(float *base, size_t rows, size_t count, size_t stride, float scale) {
  for (size_t row = 0; row < rows; row++) FN(softmax_one)(base + row * stride, count, scale);
}

static void FN(softmax)(float *x, size_t n) {
  if (n > 0) FN(softmax_one)(x, n, 1);
}

static void FN(swiglu)(float *gate, const float *up, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f32x16 g = FN(ld16)(gate + i);
    FN(st16)(gate + i, g / (1 + FN(exp16)(-g)) * FN(ld16)(up + i));
  }
  if (i < n) {
    f32x16 g = 0, u = 0;
    for (size_t k = i; k < n; k++) {
      g[k - i] = gate[k];
      u[k - i] = up[k];
    }
    f32x16 r = g / (1 + FN(exp16)(-g)) * u;
    for (size_t k = i; k < n; k++) gate[k] = r[k - i];
  }
}

// MARK: reductions and norms

static float FN(sum)(const float *x, size_t n) {
  f32x16 acc = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) acc += FN(ld16)(x + i);
  float s = FN(hsum16)(acc);
  for (; i < n; i++) s += x[i];
  return s;
}

static float FN(sum_of_squares)(const float *x, size_t n) {
  f32x16 acc = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f32x16 v = FN(ld16)(x + i);
    acc = MADD(v, v, acc);
  }
  float s = FN(hsum16)(acc);
  for (; i < n; i++) s += x[i] * x[i];
  return s;
}

static void FN(rms_norm)(const float *x, const float *weight, float epsilon, size_t n, float *out) {
  f32x16 acc = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f32x16 v = FN(ld16)(x + i);
    acc = MADD(v, v, acc);
  }
  double ss = FN(hsum16)(acc);
  for (; i < n; i++) ss += (double)(x[i] * x[i]);
  float scale = (float)(1.0 / __builtin_sqrt(ss / (double)n + (double)epsilon));
  for (i = 0; i + 16 <= n; i += 16) FN(st16)(out + i, FN(ld16)(x + i) * scale * FN(ld16)(weight + i));
  for (; i < n; i++) out[i] = x[i] * scale * weight[i];
}

static void FN(layer_norm)(float *x, size_t rows, const float *gamma, const float *beta, size_t columns, float epsilon) {
  size_t end = columns & ~(size_t)15;
  float inverse_count = 1 / (float)columns;
  for (size_t row = 0; row < rows; row++) {
    float *r = x + row * columns;
    float mean = FN(sum)(r, columns) * inverse_count;
    f32x16 acc = 0;
    size_t j = 0;
    for (; j < end; j += 16) {
      f32x16 d = FN(ld16)(r + j) - mean;
      acc = MADD(d, d, acc);
    }
    float variance = FN(hsum16)(acc);
    for (; j < columns; j++) {
      float d = r[j] - mean;
      variance += d * d;
    }
    variance *= inverse_count;
    float inv = 1 / __builtin_sqrtf(variance + epsilon);
    for (j = 0; j < end; j += 16) {
      f32x16 y = (FN(ld16)(r + j) - mean) * inv;
      FN(st16)(r + j, MADD(y, FN(ld16)(gamma + j), FN(ld16)(beta + j)));
    }
    for (; j < columns; j++) r[j] = (r[j] - mean) * inv * gamma[j] + beta[j];
  }
}

static void FN(add)(const float *x, float *y, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) FN(st16)(y + i, FN(ld16)(y + i) + FN(ld16)(x + i));
  for (; i < n; i++) y[i] += x[i];
}

static void FN(add3)(const float *a, const float *b, float *y, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) FN(st16)(y + i, FN(ld16)(a + i) + FN(ld16)(y + i) + FN(ld16)(b + i));
  for (; i < n; i++) y[i] = a[i] + y[i] + b[i];
}

static void FN(axpy)(float a, const float *x, float *y, size_t n) {
  size_t i = 0;
  f32x16 av = FN(splat16)(a);
  for (; i + 16 <= n; i += 16) FN(st16)(y + i, MADD(av, FN(ld16)(x + i), FN(ld16)(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

static void FN(scale)(float *x, float a, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) FN(st16)(x + i, FN(ld16)(x + i) * a);
  for (; i < n; i++) x[i] *= a;
}

// MARK: attention (head dimension 64, half-float keys and values)

static void FN(attention_scores)(const float *queries, size_t group, const void *key_data, size_t stride, size_t first,
                                 size_t last, float scale, float *scores, size_t score_stride) {
  const uint16_t *keys = (const uint16_t *)key_data;
  if (group == 3) {
    // Three query heads per KV head (SmolLM2): each key row is read once for all three.
    f32x16 a[4], b[4], c[4];
    for (int i = 0; i < 4; i++) {
      a[i] = FN(ld16)(queries + 16 * i) * scale;
      b[i] = FN(ld16)(queries + 64 + 16 * i) * scale;
      c[i] = FN(ld16)(queries + 128 + 16 * i) * scale;
    }
    for (size_t j = first; j < last; j++) {
      const uint16_t *k = keys + j * stride;
      f32x16 k0 = FN(ldh16)(k), k1 = FN(ldh16)(k + 16), k2 = FN(ldh16)(k + 32), k3 = FN(ldh16)(k + 48);
      f32x16 x = a[0] * k0, y = b[0] * k0, z = c[0] * k0;
      x = MADD(a[1], k1, x);
      y = MADD(b[1], k1, y);
      z = MADD(c[1], k1, z);
      x = MADD(a[2], k2, x);
      y = MADD(b[2], k2, y);
      z = MADD(c[2], k2, z);
      x = MADD(a[3], k3, x);
      y = MADD(b[3], k3, y);
      z = MADD(c[3], k3, z);
      scores[j] = FN(hsum16)(x);
      scores[score_stride + j] = FN(hsum16)(y);
      scores[2 * score_stride + j] = FN(hsum16)(z);
    }
    return;
  }
  for (size_t h = 0; h < group; h++) {
    const float *q = queries + 64 * h;
    f32x16 q0 = FN(ld16)(q) * scale, q1 = FN(ld16)(q + 16) * scale, q2 = FN(ld16)(q + 32) * scale,
           q3 = FN(ld16)(q + 48) * scale;
    for (size_t j = first; j < last; j++) {
      const uint16_t *k = keys + j * stride;
      f32x16 acc = q0 * FN(ldh16)(k);
      acc = MADD(q1, FN(ldh16)(k + 16), acc);
      acc = MADD(q2, FN(ldh16)(k + 32), acc);
      acc = MADD(q3, FN(ldh16)(k + 48), acc);
      scores[h * score_stride + j] = FN(hsum16)(acc);
    }
  }
}

/// One loop per group size with the accumulators in named variables: an array indexed by
/// the head made clang keep them on the stack (3× slower than the Swift kernel it replaced).
#define TK_WEIGHTED_LOOP(body)                                   \
  for (size_t j = 0; j < length; j++) {                          \
    f32x16 v = FN(ldh16)(base + j * stride);                     \
    body                                                         \
  }

static void FN(attention_weighted_sum)(const float *weights, size_t weight_stride, size_t group, const void *value_data,
                                       size_t stride, size_t length, size_t chunk, float *out) {
  const uint16_t *base = (const uint16_t *)value_data + 16 * chunk;
  const float *w0 = weights, *w1 = weights + weight_stride, *w2 = weights + 2 * weight_stride,
              *w3 = weights + 3 * weight_stride;
  f32x16 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  switch (group) {
  case 1:
    TK_WEIGHTED_LOOP(a0 = MADD((f32x16)w0[j], v, a0);)
    break;
  case 2:
    TK_WEIGHTED_LOOP(a0 = MADD((f32x16)w0[j], v, a0); a1 = MADD((f32x16)w1[j], v, a1);)
    break;
  case 3:
    TK_WEIGHTED_LOOP(a0 = MADD((f32x16)w0[j], v, a0); a1 = MADD((f32x16)w1[j], v, a1);
                     a2 = MADD((f32x16)w2[j], v, a2);)
    break;
  default:
    TK_WEIGHTED_LOOP(a0 = MADD((f32x16)w0[j], v, a0); a1 = MADD((f32x16)w1[j], v, a1);
                     a2 = MADD((f32x16)w2[j], v, a2); a3 = MADD((f32x16)w3[j], v, a3);)
    break;
  }
  f32x16 accs[4] = {a0, a1, a2, a3};
  for (size_t h = 0; h < group && h < 4; h++) FN(st16)(out + 64 * h + 16 * chunk, accs[h]);
}

// MARK: the table

const tk_kernels FN(tk_table) = {
    .level = TK_LEVEL,
    .to_half = FN(to_half),
    .from_half = FN(from_half),
    .round_to_half = FN(round_to_half),
    .round_like_q8 = FN(round_like_q8),
    .dequantize = FN(dequantize),
    .q8_prepare = FN(q8_prepare),
    .matvec_q4_1 = FN(matvec_q4_1),
    .matvec_q4_0 = FN(matvec_q4_0),
    .matvec_q8_0 = FN(matvec_q8_0),
    .dot_f32 = FN(dot_f32),
    .dot_f32_f16 = FN(dot_f32_f16),
    .matvec_q4_float = FN(matvec_q4_float),
    .matvec_q8_0_float = FN(matvec_q8_0_float),
    .matvec_q4_k = FN(matvec_q4_k),
    .matvec_q6_k = FN(matvec_q6_k),
    .exp = FN(exp),
    .erf = FN(erf),
    .bias_gelu = FN(bias_gelu),
    .softmax_rows = FN(softmax_rows),
    .softmax = FN(softmax),
    .swiglu = FN(swiglu),
    .rms_norm = FN(rms_norm),
    .layer_norm = FN(layer_norm),
    .sum = FN(sum),
    .sum_of_squares = FN(sum_of_squares),
    .add = FN(add),
    .add3 = FN(add3),
    .axpy = FN(axpy),
    .scale = FN(scale),
    .attention_scores = FN(attention_scores),
    .attention_weighted_sum = FN(attention_weighted_sum),
};
