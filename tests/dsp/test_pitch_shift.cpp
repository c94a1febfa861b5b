#include "dsp/pitch_shift.hpp"

#include "spectrum_probe.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace mtag::dsp;
using mtag::test::peak_bin;
using mtag::test::rms_db;
using mtag::test::sine;

TEST_CASE("pitch shift: +-12 semitones moves 440 Hz to 880 / 220 Hz, keeps length and level") {
    const int sr = 22050, n_fft = 8192;
    const std::vector<float> x = sine(440.0, sr, 3 * sr + 17);
    const double level = rms_db(std::span<const float>(x).subspan(sr, sr));
    for (double semitones : {12.0, -12.0, 0.5, -3.3}) {
        const std::vector<float> y = pitch_shift(x, sr, semitones);
        INFO("semitones " << semitones);
        REQUIRE(y.size() == x.size());
        const double target = 440.0 * std::exp2(semitones / 12.0);
        const long expected_bin = std::lround(target * n_fft / sr);
        const long bin = static_cast<long>(peak_bin(y, y.size() / 2 - n_fft / 2, n_fft));
        REQUIRE(std::abs(bin - expected_bin) <= 1);
        const double out_level = rms_db(std::span<const float>(y).subspan(sr, sr));
        REQUIRE(std::abs(out_level - level) < 1.0);
    }
}

TEST_CASE("pitch shift: 0 semitones returns the input, the range is +-24") {
    const std::vector<float> x = sine(1000.0, 16000, 16000);
    const std::vector<float> y = pitch_shift(x, 16000, 0.0);
    REQUIRE(y.size() == x.size());
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(std::abs(y[i] - x[i]) < 1e-4);
    REQUIRE(pitch_shift(x, 16000, 24.0).size() == x.size());
    REQUIRE(pitch_shift(x, 16000, -24.0).size() == x.size());
    REQUIRE_THROWS_WITH(pitch_shift(x, 16000, 25.0), Catch::Contains("[-24, 24]"));
}

TEST_CASE("pitch shift: resample_to_length gives exactly the asked length, time-aligned") {
    const std::vector<float> x = sine(100.0, 8000, 8000);
    const std::vector<float> y = resample_to_length(x, 2.0, 16000);
    REQUIRE(y.size() == 16000);
    // A 100 Hz sine at 16 kHz: sample 4000 (quarter of a second) is at phase 25 cycles, i.e. 0.
    REQUIRE(std::abs(y[4000]) < 0.01);
    REQUIRE(y[4040] == Approx(0.5).margin(0.01));  // a quarter period later: the crest
}
