#include "dsp/error.hpp"
#include "dsp/mfcc.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace mtag::dsp;

namespace {

FloatMatrix random_log_mel(std::size_t n_mels, std::size_t frames, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-80.0f, 10.0f);
    FloatMatrix S(n_mels, frames);
    for (auto& v : S.data) v = dist(rng);
    return S;
}

// scipy.fftpack.dct(x, type=2, norm='ortho') written out directly, in double:
// y[k] = 2 f_k sum_n x[n] cos(pi k (2n+1) / (2N)), f_0 = sqrt(1/(4N)), f_k = sqrt(1/(2N)).
double direct_dct(const FloatMatrix& S, std::size_t k, std::size_t t) {
    const double N = static_cast<double>(S.rows);
    double sum = 0.0;
    for (std::size_t n = 0; n < S.rows; ++n) sum += S(n, t) * std::cos(M_PI * k * (2.0 * n + 1.0) / (2.0 * N));
    const double f = k == 0 ? std::sqrt(1.0 / (4.0 * N)) : std::sqrt(1.0 / (2.0 * N));
    return 2.0 * f * sum;
}

}  // namespace

TEST_CASE("mfcc: equals a direct orthonormal DCT-II computed in double", "[mfcc]") {
    const FloatMatrix S = random_log_mel(128, 9, 1);
    Mfcc mfcc(128);  // librosa defaults: n_mfcc 20, no liftering
    FloatMatrix out;
    mfcc.compute(S, out);
    REQUIRE(out.rows == 20);
    REQUIRE(out.cols == 9);
    for (std::size_t k = 0; k < 20; ++k)
        for (std::size_t t = 0; t < 9; ++t) CHECK(out(k, t) == Approx(direct_dct(S, k, t)).margin(2e-4));
}

TEST_CASE("mfcc: the square DCT-II matrix is orthonormal", "[mfcc]") {
    const FloatMatrix D = dct_ii_ortho(40, 40);
    for (std::size_t i = 0; i < 40; ++i)
        for (std::size_t j = 0; j < 40; ++j) {
            double dot = 0.0;
            for (std::size_t n = 0; n < 40; ++n) dot += double(D(i, n)) * D(j, n);
            CHECK(dot == Approx(i == j ? 1.0 : 0.0).margin(1e-6));
        }
}

TEST_CASE("mfcc: a flat log-mel spectrum has only a 0th coefficient", "[mfcc]") {
    FloatMatrix S(96, 2, -30.0f);
    FloatMatrix out;
    Mfcc(96, {.n_mfcc = 13}).compute(S, out);
    CHECK(out(0, 0) == Approx(-30.0 * std::sqrt(96.0)).epsilon(1e-5));
    for (std::size_t k = 1; k < 13; ++k) CHECK(out(k, 1) == Approx(0.0).margin(1e-3));
}

TEST_CASE("mfcc: liftering scales coefficient k by 1 + (L/2) sin(pi (k+1) / L)", "[mfcc]") {
    const FloatMatrix S = random_log_mel(40, 5, 2);
    FloatMatrix plain, liftered;
    Mfcc(40, {.n_mfcc = 13}).compute(S, plain);
    Mfcc(40, {.n_mfcc = 13, .lifter = 22.0f}).compute(S, liftered);
    for (std::size_t k = 0; k < 13; ++k) {
        const double li = 1.0 + 11.0 * std::sin(M_PI * (k + 1) / 22.0);
        for (std::size_t t = 0; t < 5; ++t) CHECK(liftered(k, t) == Approx(li * plain(k, t)).epsilon(1e-5).margin(1e-3));
    }
}

TEST_CASE("mfcc: options and shapes are validated", "[mfcc]") {
    CHECK_THROWS_AS(Mfcc(10, {.n_mfcc = 20}), mtag::Error);
    CHECK_THROWS_AS(Mfcc(40, {.lifter = -1.0f}), mtag::Error);
    FloatMatrix S(30, 3), out;
    CHECK_THROWS_AS(Mfcc(40).compute(S, out), mtag::Error);
}
