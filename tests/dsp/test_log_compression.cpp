#include "dsp/error.hpp"
#include "dsp/log_compression.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace mtag::dsp;

TEST_CASE("log_compression: vectorised log10 matches std::log10 over the float range", "[db]") {
    std::vector<float> x;
    std::mt19937_64 rng(4);
    std::uniform_real_distribution<double> exponent(-37.9, 38.0);
    for (int i = 0; i < 20000; ++i) x.push_back(static_cast<float>(std::pow(10.0, exponent(rng))));
    for (float v : {1.0f, 2.0f, 0.5f, 1.41421f, 1.41422f, 0.999999f, 1.000001f, 1e-10f, 1.2e-38f, 3e38f}) x.push_back(v);
    std::vector<float> y = x;
    log10_normal(y);
    double worst = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double ref = std::log10(static_cast<double>(x[i]));
        worst = std::max(worst, std::abs(y[i] - ref) / (std::abs(ref) + 1e-1));
    }
    INFO("worst error relative to |log10 x| + 0.1: " << worst);
    CHECK(worst < 3e-7);
}

TEST_CASE("log_compression: power_to_db values, amin floor and top_db clipping", "[db]") {
    std::vector<float> S{1.0f, 10.0f, 100.0f, 1e-12f, 0.0f};
    power_to_db(S, 1.0f, 1e-10f, std::nullopt);
    CHECK(S[0] == Approx(0.0).margin(1e-5));
    CHECK(S[1] == Approx(10.0).margin(1e-5));
    CHECK(S[2] == Approx(20.0).margin(1e-5));
    CHECK(S[3] == Approx(-100.0).margin(1e-4));  // amin = 1e-10 floors both tiny values
    CHECK(S[4] == Approx(-100.0).margin(1e-4));

    std::vector<float> T{1.0f, 10.0f, 100.0f, 1e-12f};
    power_to_db(T);  // top_db = 80 below the maximum (20 dB)
    CHECK(T[3] == Approx(-60.0).margin(1e-4));
    CHECK(T[0] == Approx(0.0).margin(1e-5));

    std::vector<float> U{4.0f, 2.0f, 1.0f};
    power_to_db(U, DbReference::max(), 1e-10f, 1.5f);  // ref = max gives a 0 dB peak; top_db 1.5 clips
    CHECK(U[0] == Approx(0.0).margin(1e-5));
    CHECK(U[1] == Approx(-1.5).margin(1e-5));  // -3.01 dB clipped to -1.5
    CHECK(U[2] == Approx(-1.5).margin(1e-5));

    std::vector<float> V{1.0f, 100.0f};
    power_to_db(V, 10.0f);  // a fixed reference of 10 (10 dB)
    CHECK(V[0] == Approx(-10.0).margin(1e-5));
    CHECK(V[1] == Approx(10.0).margin(1e-5));

    CHECK_THROWS_AS(power_to_db(V, 1.0f, 0.0f), mtag::Error);
    CHECK_THROWS_AS(power_to_db(V, 1.0f, 1e-10f, -1.0f), mtag::Error);
}

TEST_CASE("log_compression: amplitude_to_db is 20 log10 with its own floor", "[db]") {
    FloatMatrix S(1, 4);
    S.data = {1.0f, -0.1f, 1e-7f, 2.0f};
    amplitude_to_db(S);  // amin 1e-5 -> -100 dB, then top_db 80 below max (6.02 dB)
    CHECK(S.data[0] == Approx(0.0).margin(1e-5));
    CHECK(S.data[1] == Approx(-20.0).margin(1e-5));
    CHECK(S.data[2] == Approx(20 * std::log10(2.0) - 80).margin(1e-4));
    CHECK(S.data[3] == Approx(20 * std::log10(2.0)).margin(1e-5));

    std::vector<float> T{0.5f, 0.25f};
    amplitude_to_db(T, DbReference::max(), 1e-5f, std::nullopt);
    CHECK(T[0] == Approx(0.0).margin(1e-5));
    CHECK(T[1] == Approx(-6.0206).margin(1e-4));
}

TEST_CASE("log_compression: blockwise top_db equals whole-array top_db", "[db]") {
    std::vector<float> S{1e-3f, 5.0f, 1e-9f, 2e-2f, 7e-11f, 1.0f};
    std::vector<float> whole = S;
    power_to_db(whole, 1.0f, 1e-10f, 30.0f);
    std::vector<float> a(S.begin(), S.begin() + 3), b(S.begin() + 3, S.end());
    power_to_db(a, 1.0f, 1e-10f, std::nullopt);
    power_to_db(b, 1.0f, 1e-10f, std::nullopt);
    const float top = std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end()));
    apply_top_db(a, top, 30.0f);
    apply_top_db(b, top, 30.0f);
    for (int i = 0; i < 3; ++i) {
        CHECK(a[i] == whole[i]);
        CHECK(b[i] == whole[i + 3]);
    }
}

TEST_CASE("log_compression: log1p compression matches std::log1p", "[db]") {
    std::vector<float> x{0.0f, 1e-12f, 1e-8f, 1e-5f, 1e-4f, 0.01f, 1.0f, 1000.0f, 1e20f};
    std::vector<float> y = x;
    log1p_compress(y);  // C = 10000
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double ref = std::log1p(10000.0 * x[i]);
        CHECK(y[i] == Approx(ref).epsilon(3e-7).margin(1e-12));
    }
    std::vector<float> z{2.0f};
    log1p_compress(z, 1.0f);
    CHECK(z[0] == Approx(std::log(3.0)).epsilon(1e-6));
    CHECK_THROWS_AS(log1p_compress(z, 0.0f), mtag::Error);
}
