#include "dsp/equalizer.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace mtag::dsp;

TEST_CASE("equalizer: seven bands (low shelf, five peaking, high shelf) in audiomentations' ranges") {
    Rng rng(1);
    const double ranges[7][2] = {{42, 95},    {91, 204},    {196, 441},  {421, 948},
                                 {909, 2045}, {1957, 4404}, {4216, 9486}};
    for (int trial = 0; trial < 200; ++trial) {
        const std::vector<BiquadDesign> bands = random_seven_band_eq({}, 44100, rng);
        REQUIRE(bands.size() == 7);
        REQUIRE(bands.front().type == BiquadType::low_shelf);
        REQUIRE(bands.back().type == BiquadType::high_shelf);
        for (std::size_t b = 0; b < 7; ++b) {
            if (b > 0 && b < 6) REQUIRE(bands[b].type == BiquadType::peaking);
            REQUIRE(bands[b].frequency >= ranges[b][0]);
            REQUIRE(bands[b].frequency <= ranges[b][1]);
            REQUIRE(std::abs(bands[b].gain_db) <= 12.0);
            REQUIRE(bands[b].q >= 0.5);
            REQUIRE(bands[b].q <= 1.33);
        }
    }
    // At 16 kHz the high shelf stays below 0.45 * 16000; at 8 kHz it is dropped.
    for (int trial = 0; trial < 100; ++trial)
        REQUIRE(random_seven_band_eq({}, 16000, rng).back().frequency < 7200);
    REQUIRE(random_seven_band_eq({}, 8000, rng).size() == 6);
    REQUIRE_THROWS(random_seven_band_eq({.min_gain_db = 3, .max_gain_db = -3}, 44100, rng));
}

TEST_CASE("equalizer: random filter centres are uniform on the mel scale") {
    REQUIRE(hz_to_mel(1000.0) == Approx(15.0));
    REQUIRE(mel_to_hz(hz_to_mel(4321.0)) == Approx(4321.0));
    Rng rng(2);
    const RandomFilterOptions options{
        .type = BiquadType::peaking, .min_frequency = 50, .max_frequency = 8000};
    const double expected_below_1k =
        (hz_to_mel(1000) - hz_to_mel(50)) / (hz_to_mel(8000) - hz_to_mel(50));  // ~0.44
    int below = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) {
        const BiquadDesign d = random_filter(options, 44100, rng);
        REQUIRE(d.frequency >= 50.0);
        REQUIRE(d.frequency <= 8000.0);
        if (d.frequency < 1000.0) ++below;
    }
    REQUIRE(static_cast<double>(below) / draws == Approx(expected_below_1k).margin(0.015));
}

TEST_CASE("equalizer: applying designs equals running the cascade of their coefficients") {
    const std::vector<BiquadDesign> designs = {
        {.type = BiquadType::low_shelf, .frequency = 80, .gain_db = 6},
        {.type = BiquadType::peaking, .frequency = 1200, .q = 1.5, .gain_db = -8}};
    std::vector<float> x(3000, 0.0f);
    x[0] = 1.0f;
    std::vector<float> a = x;
    apply_filters(a, designs, 22050);
    Biquad first(design_biquad(designs[0], 22050)), second(design_biquad(designs[1], 22050));
    std::vector<float> b = x;
    first.process(b);
    second.process(b);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(a[i] == Approx(b[i]).margin(1e-6));
}
