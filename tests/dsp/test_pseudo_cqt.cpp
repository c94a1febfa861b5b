#include "dsp/pseudo_cqt.hpp"

#include "dsp/cqt.hpp"
#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

using mtag::dsp::Cqt;
using mtag::dsp::FloatMatrix;
using mtag::dsp::PseudoCqt;

namespace {

double midi_to_hz(double midi) {
    return 440.0 * std::pow(2.0, (midi - 69.0) / 12.0);
}

std::vector<float> sine(double freq, double sr, double seconds) {
    std::vector<float> y(static_cast<std::size_t>(seconds * sr));
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] = static_cast<float>(std::sin(2.0 * std::numbers::pi * freq * i / sr));
    return y;
}

}  // namespace

TEST_CASE("pseudo cqt: FFT size, frames and a tone in its bin", "[pseudo_cqt]") {
    mtag::dsp::set_fft_planning(
        mtag::dsp::FftPlanning::estimate);  // sizes 4096..16384; planning is not under test
    const double sr = 22050;
    PseudoCqt pseudo({.sample_rate = sr, .fmin = midi_to_hz(48), .n_bins = 48});
    // Longest kernel (C3): 17.3 * 22050 / 130.8 = 2921 samples -> 4096.
    CHECK(pseudo.n_fft() == 4096);
    CHECK(PseudoCqt({.sample_rate = sr, .hop_length = 4096, .fmin = midi_to_hz(72), .n_bins = 24}).n_fft() ==
          8192);
    FloatMatrix c;
    for (int note : {48, 60, 69, 77, 95}) {
        CAPTURE(note);
        const auto y = sine(midi_to_hz(note), sr, 1.0);
        pseudo.compute(y, c);
        REQUIRE(c.rows == 48);
        REQUIRE(c.cols == 1 + y.size() / 512);
        const auto mid = c.cols / 2;
        std::size_t best = 0;
        for (std::size_t r = 0; r < c.rows; ++r)
            if (c(r, mid) > c(best, mid)) best = r;
        CHECK(best == static_cast<std::size_t>(note - 48));
        // Bins two or more semitones away are well below the peak (0.12 at worst, for the lowest bin, whose
        // kernel is as long as the STFT window so the magnitude product blurs most).
        double far = 0;
        for (std::size_t r = 0; r < c.rows; ++r)
            if (r + 2 <= best || r >= best + 2)
                far = std::max(far, static_cast<double>(c(r, mid) / c(best, mid)));
        CAPTURE(far);
        CHECK(far < 0.15);
    }
}

TEST_CASE("pseudo cqt: scale conventions follow librosa.pseudo_cqt", "[pseudo_cqt]") {
    mtag::dsp::set_fft_planning(mtag::dsp::FftPlanning::estimate);
    // scale=False multiplies by sqrt(length / n_fft) where scale=True divides by sqrt(n_fft): the ratio of
    // the two is sqrt(length) per bin.
    const double sr = 22050;
    const auto y = sine(midi_to_hz(76), sr, 1.0);
    PseudoCqt scaled({.sample_rate = sr, .fmin = midi_to_hz(60), .n_bins = 36});
    PseudoCqt unscaled({.sample_rate = sr, .fmin = midi_to_hz(60), .n_bins = 36, .scale = false});
    FloatMatrix a, b;
    scaled.compute(y, a);
    unscaled.compute(y, b);
    for (std::size_t r = 0; r < a.rows; ++r)
        CHECK(b(r, 20) == Approx(a(r, 20) * std::sqrt(scaled.lengths()[r])).epsilon(1e-4));
}

TEST_CASE("pseudo cqt: options are validated as Cqt's, and gamma must be 0", "[pseudo_cqt]") {
    mtag::dsp::set_fft_planning(mtag::dsp::FftPlanning::estimate);
    CHECK_THROWS_WITH(PseudoCqt({.gamma = 3.0}), Catch::Contains("gamma"));
    CHECK_THROWS_WITH(PseudoCqt({.sample_rate = 22050, .fmin = 100.0}), Catch::Contains("Nyquist"));
    CHECK_THROWS_WITH(PseudoCqt({.hop_length = 0}), Catch::Contains("hop_length"));
    PseudoCqt pseudo({});
    FloatMatrix c;
    CHECK_THROWS_AS(pseudo.compute(std::vector<float>{}, c), mtag::Error);
}
