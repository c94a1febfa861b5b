#include "dsp/halfband.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <vector>

using mtag::dsp::HalfbandDecimator;

TEST_CASE("halfband: flat passband to 0.9 of the output Nyquist, 100 dB stopband beyond 1.1", "[halfband]") {
    const HalfbandDecimator decimator;
    double worst_pass = 0, worst_stop = 0;
    for (int i = 0; i <= 450; ++i)
        worst_pass = std::max(worst_pass, std::abs(decimator.response(i * 0.0005) - 1.0));
    for (int i = 550; i <= 1000; ++i) worst_stop = std::max(worst_stop, decimator.response(i * 0.0005));
    CAPTURE(worst_pass, worst_stop, decimator.half_length());
    CHECK(worst_pass < 1e-5);
    CHECK(worst_stop < 1e-5);
}

TEST_CASE("halfband: output length ceil(n/2), zero delay, unit gain on an in-band sine", "[halfband]") {
    HalfbandDecimator decimator;
    for (std::size_t n : {1u, 2u, 7u, 1000u, 1001u}) {
        std::vector<float> x(n, 1.0f), y;
        decimator.process(x, y);
        CHECK(y.size() == (n + 1) / 2);
    }
    // A sine at 0.1 cycles per input sample is 0.2 cycles per output sample; away from the edges the output
    // must be the same sine sampled at the even input instants.
    const std::size_t n = 4000;
    std::vector<float> x(n), y;
    for (std::size_t i = 0; i < n; ++i)
        x[i] = static_cast<float>(std::sin(2 * std::numbers::pi * 0.1 * i + 0.3));
    decimator.process(x, y);
    double worst = 0;
    for (std::size_t m = 200; m + 200 < y.size(); ++m)
        worst = std::max(worst, std::abs(y[m] - std::sin(2 * std::numbers::pi * 0.1 * (2.0 * m) + 0.3)));
    CHECK(worst < 1e-5);
    // A sine at 0.4 cycles per input sample (above the output Nyquist) is removed.
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::sin(2 * std::numbers::pi * 0.4 * i));
    decimator.process(x, y);
    double largest = 0;
    for (std::size_t m = 200; m + 200 < y.size(); ++m)
        largest = std::max(largest, static_cast<double>(std::abs(y[m])));
    CHECK(largest < 1e-5);
}
