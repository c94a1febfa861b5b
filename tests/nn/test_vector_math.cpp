#include "nn/vector_math.hpp"

#include "nn/cpu_features.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using namespace mtag::nn;

namespace {

// Sanitizer builds (scripts/test.sh's asan and tsan parts) look for memory errors and undefined behaviour,
// which every float of one vector walks as well as all 1.1e9 of them; there, under coverage instrumentation,
// the exhaustive walk ran its three loops over all of them twice (again in the MTAG_CPU=avx2 entry). They take
// every 4099th float.
#if defined(__has_feature)
#define MTAG_HAS_FEATURE(x) __has_feature(x)
#else
#define MTAG_HAS_FEATURE(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || MTAG_HAS_FEATURE(address_sanitizer) || \
    MTAG_HAS_FEATURE(thread_sanitizer)
constexpr std::uint32_t float_step = 4099;
#else
constexpr std::uint32_t float_step = 1;
#endif

// |got - exact| in units of the last place of the exact value (2^(e - 24) for |exact| in [2^(e-1), 2^e)).
double ulp_error(float got, double exact) {
    int e = 0;
    std::frexp(exact, &e);
    return std::abs(static_cast<double>(got) - exact) / std::ldexp(1.0, std::max(e - 24, -149));
}

}  // namespace

TEST_CASE("vector_math: expm1_fast is within 2 ulp of expm1 for every float in [-20, 0], same bits on every path") {
    // All 1.1e9 floats from -0 to -20 (every float_step-th in sanitizer builds), in blocks: the portable loop
    // against double-precision expm1, and the AVX-512 and AVX2 loops against the portable one bit for bit.
    const bool avx512 = cpu_has_avx512f(), avx2 = cpu_has_avx2() && cpu_has_fma();
    if (!avx512) WARN("no AVX-512F on this CPU (or MTAG_CPU caps it): the AVX-512 expm1_fast is not checked");
    const std::uint32_t first = std::bit_cast<std::uint32_t>(-0.0f), last = std::bit_cast<std::uint32_t>(-20.0f);
    constexpr std::uint32_t block = 1u << 20;
    std::vector<float> x(block), portable(block), avx(block);
    double worst = 0.0;
    float worst_x = 0.0f;
    std::int64_t differing = 0, checked = 0;
    const std::uint64_t count = (std::uint64_t{last} - first) / float_step + 1;
    for (std::uint64_t start = 0; start < count; start += block) {
        const auto n = static_cast<std::int64_t>(std::min<std::uint64_t>(block, count - start));
        for (std::int64_t i = 0; i < n; ++i)
            x[i] = std::bit_cast<float>(static_cast<std::uint32_t>(first + (start + i) * float_step));
        expm1_fast_portable(x.data(), portable.data(), n);
        for (std::int64_t i = 0; i < n; ++i) {
            const double err = ulp_error(portable[i], std::expm1(static_cast<double>(x[i])));
            if (err > worst) worst = err, worst_x = x[i];
        }
#ifdef MTAG_HAVE_AVX512_EXPM1
        if (avx512) {
            expm1_fast_avx512(x.data(), avx.data(), n);
            for (std::int64_t i = 0; i < n; ++i)
                differing += std::bit_cast<std::uint32_t>(avx[i]) != std::bit_cast<std::uint32_t>(portable[i]);
        }
#endif
#ifdef MTAG_HAVE_AVX2_EXPM1
        if (avx2) {
            expm1_fast_avx2(x.data(), avx.data(), n);
            for (std::int64_t i = 0; i < n; ++i)
                differing +=
                    std::bit_cast<std::uint32_t>(avx[i]) != std::bit_cast<std::uint32_t>(portable[i]);
        }
#endif
        checked += n;
    }
    INFO("worst error " << worst << " ulp at x = " << worst_x);
    CHECK(checked == (1101004801 - 1) / float_step + 1);
    CHECK(worst <= 2.0);
    CHECK(differing == 0);
}

TEST_CASE("vector_math: expm1_fast keeps -0, saturates to exactly -1, passes NaN, and its array form has tails") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    // 37 elements: two 16-lane groups and a 5-element tail on the AVX-512 path.
    std::vector<float> x{-0.0f, 0.0f, -1e-30f, -1e-45f, -17.32f, -17.33f, -17.34f, -17.5f, -18.0f, -88.0f, -1e30f,
                         -inf,  nan,  -0.5f,   -1.0f,   -2.0f,   -5.0f,   -10.0f,  -16.9f, -17.0f, -0.34657f,
                         -0.34658f, -1e-8f, -3e-3f, -0.7f, -1.04f, -3.3f, -6.2f, -9.9f, -12.0f, -15.0f, -16.0f,
                         -16.98f, -16.99f, -0.1f, -0.01f, -4.4f};
    std::vector<float> y(x.size());
    expm1_fast_array(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
        INFO("x = " << x[i]);
        const float scalar = expm1_fast(x[i]);
        if (std::isnan(x[i])) {
            CHECK(std::isnan(y[i]));
            CHECK(std::isnan(scalar));
            continue;
        }
        CHECK(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(scalar));
        CHECK(ulp_error(y[i], std::expm1(static_cast<double>(x[i]))) <= 2.0);
        CHECK(std::signbit(y[i]) == std::signbit(x[i]));
        if (x[i] <= -17.33f) CHECK(y[i] == -1.0f);
    }
    CHECK(y[0] == 0.0f);  // -0 -> -0, +0 -> +0
    CHECK(std::signbit(y[0]));
    CHECK(!std::signbit(y[1]));
    CHECK(y[3] == -1e-45f);  // the smallest subnormal: expm1(x) = x
    CHECK(y[4] == std::nextafter(-1.0f, 0.0f));  // -17.32 > -25 ln2 = -17.3287: -1 + 2^-24
    CHECK(y[5] == -1.0f);                        // -17.33 < -25 ln2: e^x is below half an ulp
    CHECK(y[18] == Approx(std::expm1(-16.9)));
}
