#include "dsp/noise.hpp"

#include "dsp/fft.hpp"
#include "spectrum_probe.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <vector>

using namespace mtag::dsp;

namespace {

// Least-squares slope, in dB per octave, of the Welch power spectrum (Hann, 4096-point segments, half
// overlap) of x between f_low and f_high.
double spectrum_slope_db_per_octave(const std::vector<float>& x, int sample_rate, double f_low, double f_high) {
    const int n = 4096;
    const auto fft = real_fft(n);
    std::vector<double> power(n / 2 + 1, 0.0);
    std::vector<float> frame(n);
    std::vector<std::complex<float>> spectrum(n / 2 + 1);
    for (std::size_t start = 0; start + n <= x.size(); start += n / 2) {
        for (int i = 0; i < n; ++i)
            frame[i] = x[start + i] * static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * i / n));
        fft->forward(frame.data(), spectrum.data());
        for (std::size_t k = 0; k < spectrum.size(); ++k) power[k] += std::norm(spectrum[k]);
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0, count = 0;
    for (std::size_t k = 1; k < power.size(); ++k) {
        const double f = static_cast<double>(k) * sample_rate / n;
        if (f < f_low || f > f_high) continue;
        const double octave = std::log2(f), db = 10.0 * std::log10(power[k]);
        // Weight 1/f per bin so every octave counts equally in the fit.
        const double weight = 1.0 / f;
        sx += weight * octave; sy += weight * db; sxx += weight * octave * octave; sxy += weight * octave * db;
        count += weight;
    }
    return (count * sxy - sx * sy) / (count * sxx - sx * sx);
}

}  // namespace

TEST_CASE("noise: coloured noise mixed at an SNR measures within 0.1 dB of it") {
    Rng rng(7);
    const std::vector<float> clean = mtag::test::sine(440.0, 22050, 50000, 0.3);
    for (double beta : {beta_white, beta_pink, beta_brown, 1.5}) {
        for (double snr : {-5.0, 5.0, 20.0, 40.0}) {
            std::vector<float> mixed = clean;
            add_coloured_noise(mixed, beta, snr, rng);
            std::vector<float> added(mixed.size());
            for (std::size_t i = 0; i < mixed.size(); ++i) added[i] = mixed[i] - clean[i];
            const double measured = 20.0 * std::log10(rms(clean) / rms(added));
            INFO("beta " << beta << " snr " << snr);
            REQUIRE(measured == Approx(snr).margin(0.1));
        }
    }
}

TEST_CASE("noise: pink falls 3 dB per octave, white is flat, brown falls 6 dB per octave (100 Hz - 5 kHz)") {
    Rng rng(11);
    const int sr = 22050;
    const std::size_t n = 1 << 19;
    const double pink = spectrum_slope_db_per_octave(coloured_noise(n, beta_pink, rng), sr, 100, 5000);
    const double white = spectrum_slope_db_per_octave(coloured_noise(n, beta_white, rng), sr, 100, 5000);
    const double brown = spectrum_slope_db_per_octave(coloured_noise(n, beta_brown, rng), sr, 100, 5000);
    REQUIRE(pink == Approx(-10.0 * std::log10(2.0)).margin(0.5));
    REQUIRE(white == Approx(0.0).margin(0.5));
    REQUIRE(brown == Approx(-20.0 * std::log10(2.0)).margin(0.5));
    REQUIRE(rms(coloured_noise(1000, beta_pink, rng)) == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("noise: a recording is mixed at the SNR from a random offset and looped when short") {
    Rng rng(3);
    const std::vector<float> clean = mtag::test::sine(300.0, 16000, 20000, 0.5);
    std::vector<float> recording(3000);
    for (std::size_t i = 0; i < recording.size(); ++i) recording[i] = static_cast<float>(std::sin(0.37 * i) + 0.1);
    std::vector<float> mixed = clean;
    const std::size_t offset = add_noise_recording(mixed, recording, 12.0, rng);
    REQUIRE(offset < recording.size());
    std::vector<float> added(mixed.size());
    for (std::size_t i = 0; i < mixed.size(); ++i) added[i] = mixed[i] - clean[i];
    REQUIRE(20.0 * std::log10(rms(clean) / rms(added)) == Approx(12.0).margin(0.1));
    // The added noise is the recording looped from the offset, up to one scale factor.
    const double scale = added[0] / recording[offset];
    for (std::size_t i : {std::size_t(1), std::size_t(2999), std::size_t(3000), std::size_t(19999)})
        REQUIRE(added[i] == Approx(scale * recording[(offset + i) % recording.size()]).margin(1e-5));
}

TEST_CASE("noise: colour names parse and bad ones are rejected") {
    REQUIRE(parse_noise_beta("pink") == 1.0);
    REQUIRE(parse_noise_beta("brown") == 2.0);
    REQUIRE(parse_noise_beta("0.5") == 0.5);
    REQUIRE_THROWS_WITH(parse_noise_beta("purple"), Catch::Contains("expected white, pink, brown"));
    std::vector<float> silent(100, 0.0f), noise(100, 1.0f);
    mix_at_snr(silent, noise, 10.0);
    REQUIRE(rms(silent) == 0.0);  // silence has no level to refer to: left unchanged
}
