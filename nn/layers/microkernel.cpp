#include "nn/layers/microkernel.hpp"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

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
#define MTAG_HAVE_AVX512_KERNEL 1

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

bool cpu_has_avx512() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

bool forced_portable() {
    const char* v = std::getenv("MTAG_MICROKERNEL");
    return v && std::strcmp(v, "portable") == 0;
}

Kernel choose() {
#ifdef MTAG_HAVE_AVX512_KERNEL
    if (!forced_portable() && cpu_has_avx512()) return avx512_kernel;
#endif
    return portable_kernel;
}

}  // namespace

Kernel kernel() {
    static const Kernel k = choose();
    return k;
}

bool fast() {
    return kernel() != portable_kernel;
}

std::string kernel_name() {
    return fast() ? "avx512" : "portable";
}

}  // namespace mtag::nn::microkernel
