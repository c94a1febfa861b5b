#include "nn/layers/microkernel.hpp"

#include "nn/cpu_features.hpp"

#include <immintrin.h>

namespace mtag::nn::microkernel {

void portable_kernel(std::int64_t k, const float* a, const float* b, float* c, std::int64_t ldc,
                     bool accumulate) {
    float acc[mr][nr];
    for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
    for (std::int64_t p = 0; p < k; ++p, a += mr, b += nr)
        for (int i = 0; i < mr; ++i)
            for (int j = 0; j < nr; ++j) acc[i][j] += a[i] * b[j];
    for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) c[i * ldc + j] = acc[i][j];
}

namespace {

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MTAG_HAVE_X86_KERNELS 1

// 8 x 32 tile in 16 zmm accumulators; per k step two B loads and eight broadcasts of A feed 16 FMAs.
__attribute__((target("avx512f,fma"))) void avx512_kernel(std::int64_t k, const float* a, const float* b,
                                                          float* c, std::int64_t ldc, bool accumulate) {
    __m512 c0[mr], c1[mr];
    if (accumulate) {
#pragma GCC unroll 8
        for (int i = 0; i < mr; ++i) {
            c0[i] = _mm512_loadu_ps(c + i * ldc);
            c1[i] = _mm512_loadu_ps(c + i * ldc + 16);
        }
    } else {
#pragma GCC unroll 8
        for (int i = 0; i < mr; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
    }
    for (std::int64_t p = 0; p < k; ++p, a += mr, b += nr) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch(reinterpret_cast<const char*>(b + 8 * nr), _MM_HINT_T0);
#pragma GCC unroll 8
        for (int i = 0; i < mr; ++i) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < mr; ++i) {
        _mm512_storeu_ps(c + i * ldc, c0[i]);
        _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
    }
}

// The AVX2 form for CPUs without AVX-512 (AMD Zen 2/3, Intel before Skylake-SP): 16 ymm registers cannot
// hold the 8 x 32 tile's 32 accumulators, so the tile runs as three passes over k: rows 0-5 x columns 0-15,
// rows 0-5 x columns 16-31 (12 accumulators, 2 B vectors, 1 broadcast) and rows 6-7 x all 32 columns (8
// accumulators, 4 B vectors). Every element of C is the same FMA chain over p as in the AVX-512 kernel, so
// the two give the same bits.
// The empty asm keeps each B vector in a register: tuned for Zen 3, GCC otherwise folds the B loads into
// every FMA (one load per FMA), and the loads, not the FMAs, set the pace. Measured on a Zen 3 core (one
// thread, k = 64 to 256, panels in L1/L2): 91-96 GFLOP/s, against 84 for OpenBLAS's SGEMM on 2048^2; the
// same passes with folded loads 57-76, and 4 x 16 sub-tiles 47-63.
template <int R, int C>
__attribute__((target("avx2,fma"))) inline void avx2_block(std::int64_t k, const float* a, const float* b,
                                                           float* c, std::int64_t ldc, bool accumulate) {
    __m256 acc[R][C];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < C; ++j)
            acc[i][j] = accumulate ? _mm256_loadu_ps(c + i * ldc + 8 * j) : _mm256_setzero_ps();
    for (std::int64_t p = 0; p < k; ++p, a += mr, b += nr) {
        __m256 bv[C];
#pragma GCC unroll 4
        for (int j = 0; j < C; ++j) {
            bv[j] = _mm256_load_ps(b + 8 * j);
            asm("" : "+x"(bv[j]));
        }
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
            for (int j = 0; j < C; ++j) acc[i][j] = _mm256_fmadd_ps(ai, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
        for (int j = 0; j < C; ++j) _mm256_storeu_ps(c + i * ldc + 8 * j, acc[i][j]);
}

__attribute__((target("avx2,fma"))) void avx2_kernel(std::int64_t k, const float* a, const float* b, float* c,
                                                     std::int64_t ldc, bool accumulate) {
    static_assert(mr == 8 && nr == 32, "the AVX2 kernel's passes cover an 8 x 32 tile");
    avx2_block<6, 2>(k, a, b, c, ldc, accumulate);
    avx2_block<6, 2>(k, a, b + 16, c + 16, ldc, accumulate);
    avx2_block<2, 4>(k, a + 6, b, c + 6 * ldc, ldc, accumulate);
}

// dst (8 x 8, row stride ld_dst) = the transpose of src (8 x 8, row stride ld_src).
__attribute__((target("avx2"))) void transpose8x8(const float* src, std::int64_t ld_src, float* dst,
                                                  std::int64_t ld_dst) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld_src);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(dst + i * ld_dst, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ld_dst, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

#endif

}  // namespace

std::vector<NamedKernel> available_kernels() {
    std::vector<NamedKernel> out;
#ifdef MTAG_HAVE_X86_KERNELS
    if (cpu_has_avx512f()) out.push_back({"avx512", avx512_kernel});
    if (cpu_has_avx2() && cpu_has_fma()) out.push_back({"avx2", avx2_kernel});
#endif
    out.push_back({"portable", portable_kernel});
    return out;
}

namespace {

const NamedKernel& chosen() {
    static const NamedKernel k = available_kernels().front();
    return k;
}

}  // namespace

Kernel kernel() {
    return chosen().kernel;
}

bool fast() {
    return kernel() != portable_kernel;
}

void transpose(const float* src, std::int64_t ld_src, float* dst, std::int64_t ld_dst, std::int64_t rows,
               std::int64_t cols) {
    std::int64_t i0 = 0, j0 = 0;
#ifdef MTAG_HAVE_X86_KERNELS
    static const bool avx2 = cpu_has_avx2();
    if (avx2) {
        for (; i0 + 8 <= rows; i0 += 8)
            for (std::int64_t j = 0; j + 8 <= cols; j += 8)
                transpose8x8(src + i0 * ld_src + j, ld_src, dst + j * ld_dst + i0, ld_dst);
        j0 = cols / 8 * 8;
    }
#endif
    // What the 8 x 8 blocks left: the last columns of the blocked rows, then the remaining rows.
    for (std::int64_t i = 0; i < i0; ++i)
        for (std::int64_t j = j0; j < cols; ++j) dst[j * ld_dst + i] = src[i * ld_src + j];
    for (std::int64_t i = i0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j) dst[j * ld_dst + i] = src[i * ld_src + j];
}

std::string kernel_name() {
    return chosen().name;
}

}  // namespace mtag::nn::microkernel
