#pragma once
// Vectorisable elementary functions for float, written once as a portable scalar function and once each for
// AVX-512 and AVX2 + FMA with the same operations in the same order (std::fma where the vector code fuses),
// so all give IDENTICAL bits; the array functions choose the widest loop the CPU runs (nn/cpu_features.hpp).
//
// expm1: ELU and SELU call it on every non-positive activation. glibc's scalar expm1f took 25% of all CPU
// time of crnn training (`mtag bench train --model crnn --profile` under perf); this one runs 16 lanes
// at once and keeps ELU at memory speed.
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MTAG_HAVE_AVX512_EXPM1 1
#define MTAG_HAVE_AVX2_EXPM1 1
#endif

namespace mtag::nn {

namespace expm1_detail {
// x = k ln2 + r, |r| <= ln2 / 2, with k = round(x / ln2) taken by the 1.5 * 2^23 shifter (its low mantissa
// bits then hold k) and ln2 split in two parts (Cody-Waite): ln2_hi has 12 significant bits, so k * ln2_hi is
// exact for the |k| <= 25 used here.
inline constexpr float shifter = 12582912.0f;              // 1.5 * 2^23
inline constexpr float log2e = 1.44269502162933349609375f;  // float(1 / ln 2)
inline constexpr float ln2_hi = 0.693145751953125f;         // 0x1.62e4p-1, 12 trailing zero bits
inline constexpr float ln2_lo = 1.428606765330187045e-6f;   // ln2 - ln2_hi
// Below -25 ln2 = -17.33 the float result is -1 (e^x < half an ulp of 1 - 2^-24); clamping the input at
// -17.5 keeps k >= -25 (2^k normal) and still gives exactly -1 there.
inline constexpr float lowest = -17.5f;
// expm1(r) = r + r^2 (c2 + c3 r + ... + c7 r^5): Taylor to degree 7; the first omitted term r^8 / 8! is
// below 5.3e-9 on |r| <= ln2 / 2, a sixth of an ulp of expm1(r) there.
inline constexpr float c2 = 0.5f, c3 = 1.0f / 6, c4 = 1.0f / 24, c5 = 1.0f / 120, c6 = 1.0f / 720, c7 = 1.0f / 5040;
}  // namespace expm1_detail

// exp(x) - 1 for float x <= 0, at most 2 ulp from the exact value (measured over every float in [-20, 0],
// tests/nn/test_vector_math.cpp); exactly -1 below -17.33, NaN gives NaN. Positive x is not this function's
// business (ELU and SELU take x itself there).
// Measured: at most 0.872 ulp (at x = -0.351). The result is 2^k expm1(r) - (1 - 2^k) in one fma; 1 - 2^k is
// exact for -24 <= k <= 0 (k = 0 gives expm1(r) itself, so small x keep their full relative accuracy). At
// k = -25 (x < -16.98) 1 - 2^k is not a float, so 2^k (expm1(r) + 1) - 1 there.
// No expression here is an unfused a * b + c, so -ffp-contract cannot make the two versions differ.
inline float expm1_fast(float x) {
    using namespace expm1_detail;
    x = lowest > x ? lowest : x;  // a NaN x stays
    const float t = std::fma(x, log2e, shifter);
    const float k = t - shifter;
    float r = std::fma(-k, ln2_hi, x);
    r = std::fma(-k, ln2_lo, r);
    const float r2 = r * r;
    float q = std::fma(c7, r, c6);
    q = std::fma(q, r, c5);
    q = std::fma(q, r, c4);
    q = std::fma(q, r, c3);
    q = std::fma(q, r, c2);
    const float p = std::fma(q, r2, r);
    // 2^k from k in t's low mantissa bits (garbage for a NaN x, whose p is NaN anyway)
    const std::uint32_t e = (std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(shifter) + 127u) << 23;
    const float s = std::bit_cast<float>(e);
    const float near = std::fma(s, p, -(1.0f - s));
    const float far = std::fma(s, p + 1.0f, -1.0f);
    const float y = k < -24.5f ? far : near;
    // x's sign bit on the result: expm1(-0) = -0 (p is +0 there: q r^2 + r = +0 + -0); a no-op for x < 0
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(y) | (std::bit_cast<std::uint32_t>(x) & 0x80000000u));
}

#ifdef MTAG_HAVE_AVX512_EXPM1
// expm1_fast on 16 lanes, bit for bit.
__attribute__((target("avx512f"))) inline __m512 expm1_fast(__m512 x) {
    using namespace expm1_detail;
    const __m512 shift = _mm512_set1_ps(shifter);
    // lowest > x ? lowest : x (a compare and blend, not _mm512_max_ps, whose _mm512_undefined_ps trips GCC 12's
    // -Wmaybe-uninitialized; same for the shift below)
    const __m512 low = _mm512_set1_ps(lowest);
    x = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(low, x, _CMP_GT_OQ), x, low);
    const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(log2e), shift);
    const __m512 k = _mm512_sub_ps(t, shift);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(ln2_hi), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(ln2_lo), r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(c7), r, _mm512_set1_ps(c6));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c5));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c4));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c3));
    q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c2));
    const __m512 p = _mm512_fmadd_ps(q, r2, r);
    const __m512i e = _mm512_maskz_slli_epi32(0xffff,
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(shift)), _mm512_set1_epi32(127)), 23);
    const __m512 s = _mm512_castsi512_ps(e);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 near = _mm512_fmsub_ps(s, p, _mm512_sub_ps(one, s));
    const __m512 far = _mm512_fmsub_ps(s, _mm512_add_ps(p, one), one);
    const __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(k, _mm512_set1_ps(-24.5f), _CMP_LT_OQ), near, far);
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}
#endif

#ifdef MTAG_HAVE_AVX2_EXPM1
// expm1_fast on 8 lanes, bit for bit (the AVX-512 form's operations; blends from compare masks).
__attribute__((target("avx2,fma"))) inline __m256 expm1_fast(__m256 x) {
    using namespace expm1_detail;
    const __m256 shift = _mm256_set1_ps(shifter);
    const __m256 low = _mm256_set1_ps(lowest);
    x = _mm256_blendv_ps(x, low, _mm256_cmp_ps(low, x, _CMP_GT_OQ));
    const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(log2e), shift);
    const __m256 k = _mm256_sub_ps(t, shift);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(ln2_hi), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(ln2_lo), r);
    const __m256 r2 = _mm256_mul_ps(r, r);
    __m256 q = _mm256_fmadd_ps(_mm256_set1_ps(c7), r, _mm256_set1_ps(c6));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(c5));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(c4));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(c3));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(c2));
    const __m256 p = _mm256_fmadd_ps(q, r2, r);
    const __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(shift)),
                         _mm256_set1_epi32(127)),
        23);
    const __m256 s = _mm256_castsi256_ps(e);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 near = _mm256_fmsub_ps(s, p, _mm256_sub_ps(one, s));
    const __m256 far = _mm256_fmsub_ps(s, _mm256_add_ps(p, one), one);
    const __m256 y = _mm256_blendv_ps(near, far, _mm256_cmp_ps(k, _mm256_set1_ps(-24.5f), _CMP_LT_OQ));
    const __m256i sign =
        _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(static_cast<int>(0x80000000u)));
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(y), sign));
}
#endif

// out[i] = expm1_fast(x[i]) for x[i] <= 0 (or NaN); x and out may alias. The portable, AVX-512 and AVX2 loops
// give identical bits; expm1_fast_array picks the widest one the CPU has.
void expm1_fast_portable(const float* x, float* out, std::int64_t n);
#ifdef MTAG_HAVE_AVX512_EXPM1
void expm1_fast_avx512(const float* x, float* out, std::int64_t n);  // only on a CPU with AVX-512F
#endif
#ifdef MTAG_HAVE_AVX2_EXPM1
void expm1_fast_avx2(const float* x, float* out, std::int64_t n);  // only on a CPU with AVX2 and FMA
#endif
void expm1_fast_array(const float* x, float* out, std::int64_t n);

}  // namespace mtag::nn
