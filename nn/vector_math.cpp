#include "nn/vector_math.hpp"

#include "nn/cpu_features.hpp"

namespace mtag::nn {

void expm1_fast_portable(const float* x, float* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = expm1_fast(x[i]);
}

#ifdef MTAG_HAVE_AVX512_EXPM1
__attribute__((target("avx512f"))) void expm1_fast_avx512(const float* x, float* out, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, expm1_fast(_mm512_loadu_ps(x + i)));
    if (i < n) expm1_fast_portable(x + i, out + i, n - i);
}
#endif

#ifdef MTAG_HAVE_AVX2_EXPM1
__attribute__((target("avx2,fma"))) void expm1_fast_avx2(const float* x, float* out, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, expm1_fast(_mm256_loadu_ps(x + i)));
    if (i < n) expm1_fast_portable(x + i, out + i, n - i);
}
#endif

void expm1_fast_array(const float* x, float* out, std::int64_t n) {
#ifdef MTAG_HAVE_AVX512_EXPM1
    if (cpu_has_avx512f()) return expm1_fast_avx512(x, out, n);
#endif
#ifdef MTAG_HAVE_AVX2_EXPM1
    if (cpu_has_avx2() && cpu_has_fma()) return expm1_fast_avx2(x, out, n);
#endif
    expm1_fast_portable(x, out, n);
}

}  // namespace mtag::nn
