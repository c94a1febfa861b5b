#include "dsp/phase_vocoder.hpp"

#include "dsp/random.hpp"
#include "dsp/stft.hpp"
#include "spectrum_probe.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <vector>

using namespace mtag::dsp;
using mtag::test::peak_bin;
using mtag::test::rms_db;
using mtag::test::sine;

TEST_CASE("phase vocoder: the default n_fft scales with the sample rate to fast FFT sizes") {
    REQUIRE(default_stretch_n_fft(22050) == 2048);
    REQUIRE(default_stretch_n_fft(44100) == 4096);
    REQUIRE(default_stretch_n_fft(16000) == 1500);
    REQUIRE(default_stretch_n_fft(48000) == 4500);
    REQUIRE(default_stretch_n_fft(8000) == 720);
}

TEST_CASE(
    "phase vocoder: time stretch keeps a sine's frequency and level and gives round(len / rate) samples") {
    const int sr = 22050, n_fft = 8192;
    const std::vector<float> x = sine(440.0, sr, 3 * sr);
    const std::size_t expected_bin = static_cast<std::size_t>(std::lround(440.0 * n_fft / sr));
    const double level = rms_db(std::span<const float>(x).subspan(sr, sr));
    // Level changes of torchaudio's plain vocoder (librosa's algorithm) on this signal, from
    // scripts/reference_time_stretch_levels.py: the plain vocoder loses 1.19 dB at rate 0.5 here.
    const std::map<double, double> plain_reference_db = {
        {0.5, -1.187}, {0.8, -0.8319}, {1.25, 0.0004}, {2.0, -0.0354}};
    for (PhaseLocking locking : {PhaseLocking::identity, PhaseLocking::none}) {
        for (double rate : {0.5, 0.8, 1.25, 2.0}) {
            const std::vector<float> y = time_stretch(x, rate, {.sample_rate = sr, .phase_locking = locking});
            INFO("rate " << rate << " locking " << (locking == PhaseLocking::identity));
            const auto expected_length = static_cast<double>(std::llround(x.size() / rate));
            REQUIRE(std::abs(static_cast<double>(y.size()) - expected_length) <= 1.0);
            // Steady state: the middle of the output, away from the edges.
            const std::size_t middle = y.size() / 2;
            const std::size_t bin = peak_bin(y, middle - n_fft / 2, n_fft);
            REQUIRE(std::abs(static_cast<long>(bin) - static_cast<long>(expected_bin)) <= 1);
            const double change = rms_db(std::span<const float>(y).subspan(middle - sr / 4, sr / 2)) - level;
            if (locking == PhaseLocking::identity) {
                REQUIRE(std::abs(change) < 1.0);  // the default keeps the level within 1 dB
            } else {
                REQUIRE(change == Approx(plain_reference_db.at(rate)).margin(0.02));  // matches torchaudio
            }
        }
    }
}

TEST_CASE("phase vocoder: rate 1 reconstructs the input within 1e-4") {
    Rng rng(5);
    std::vector<float> x = sine(330.0, 16000, 20000, 0.3);
    for (float& v : x) v += static_cast<float>(0.1 * rng.normal());
    for (PhaseLocking locking : {PhaseLocking::identity, PhaseLocking::none}) {
        const std::vector<float> y = time_stretch(x, 1.0, {.sample_rate = 16000, .phase_locking = locking});
        REQUIRE(y.size() == x.size());
        double worst = 0.0;
        for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::abs(y[i] - x[i])));
        REQUIRE(worst < 1e-4);
    }
}

TEST_CASE("phase vocoder: the matrix form returns ceil(frames / rate) frames and is the identity at rate 1") {
    Rng rng(9);
    ComplexMatrix d(65, 40);
    for (auto& v : d.data) v = {static_cast<float>(rng.normal()), static_cast<float>(rng.normal())};
    const ComplexMatrix same = phase_vocoder(d, 1.0, 32, PhaseLocking::none);
    REQUIRE(same.rows == 65);
    REQUIRE(same.cols == 40);
    for (std::size_t i = 0; i < d.size(); ++i) REQUIRE(std::abs(same.data[i] - d.data[i]) < 1e-4);
    REQUIRE(phase_vocoder(d, 2.0, 32).cols == 20);
    REQUIRE(phase_vocoder(d, 0.3, 32).cols == 134);  // len(np.arange(0, 40, 0.3))
}

TEST_CASE("phase vocoder: rates outside [0.25, 4] and bad sizes are rejected") {
    const std::vector<float> x(1000, 0.1f);
    REQUIRE_THROWS_WITH(time_stretch(x, 5.0), Catch::Contains("[0.25, 4]"));
    REQUIRE_THROWS_WITH(time_stretch(x, 0.2), Catch::Contains("[0.25, 4]"));
    REQUIRE_THROWS_WITH(TimeStretcher({.n_fft = 1001}), Catch::Contains("even"));
    REQUIRE(time_stretch({}, 2.0).empty());
    REQUIRE(time_stretch(x, 4.0).size() == 250);
}

TEST_CASE("phase vocoder: the fused stretcher equals stft -> phase_vocoder -> istft of dsp/stft") {
    Rng rng(12);
    std::vector<float> x = sine(523.25, 22050, 30000, 0.4);
    for (float& v : x) v += static_cast<float>(0.05 * rng.normal());
    const Stft stft({.n_fft = 1024, .hop_length = 256, .center = true, .pad_mode = PadMode::constant});
    ComplexMatrix spectrum;
    stft.compute(x, spectrum);
    for (PhaseLocking locking : {PhaseLocking::identity, PhaseLocking::none}) {
        for (double rate : {0.7, 1.5}) {
            const ComplexMatrix stretched = phase_vocoder(spectrum, rate, 256, locking);
            std::vector<float> reference;
            const auto length = static_cast<std::int64_t>(std::llround(x.size() / rate));
            stft.inverse(stretched, length, reference);
            const std::vector<float> fused =
                time_stretch(x, rate, {.n_fft = 1024, .hop_length = 256, .phase_locking = locking});
            REQUIRE(fused.size() == reference.size());
            double worst = 0.0;
            for (std::size_t i = 0; i < fused.size(); ++i)
                worst = std::max(worst, double(std::abs(fused[i] - reference[i])));
            INFO("rate " << rate);
            REQUIRE(worst < 1e-4);
        }
    }
}

namespace {

// Identity phase locking written plainly (a scan per bin for peaks, a minimum search between peaks, complex
// doubles), as the vocoder did before its peak picking went to bit sets: the reference for the fast one.
ComplexMatrix reference_locked_vocoder(const ComplexMatrix& stft, double rate) {
    using C = std::complex<double>;
    const std::size_t bins = stft.rows, frames = stft.cols;
    auto column = [&](long j, std::vector<double>& mag, std::vector<C>& unit) {
        mag.assign(bins, 0.0);
        unit.assign(bins, C(1.0, 0.0));
        if (j >= static_cast<long>(frames)) return;
        for (std::size_t k = 0; k < bins; ++k) {
            const C x(stft(k, j).real(), stft(k, j).imag());
            mag[k] = std::abs(x);
            if (mag[k] > 0.0) unit[k] = x / mag[k];
        }
    };
    std::size_t steps = 0;
    while (static_cast<double>(steps) * rate < static_cast<double>(frames)) ++steps;
    ComplexMatrix out(bins, steps);
    std::vector<double> m0, m1, mag(bins);
    std::vector<C> u0, u1, acc;
    column(0, m0, acc);
    for (std::size_t t = 0; t < steps; ++t) {
        const double position = static_cast<double>(t) * rate;
        const long j = static_cast<long>(position);
        const double a = position - static_cast<double>(j);
        column(j, m0, u0);
        column(j + 1, m1, u1);
        for (std::size_t k = 0; k < bins; ++k) mag[k] = (1.0 - a) * m0[k] + a * m1[k];
        std::vector<std::size_t> peaks;
        for (std::size_t k = 0; k < bins; ++k) {
            const bool left = k == 0 ? mag[0] > 0.0 : mag[k] > mag[k - 1];
            const bool right = k + 1 == bins || mag[k] >= mag[k + 1];
            if (left && right) peaks.push_back(k);
        }
        if (peaks.empty()) {
            for (std::size_t k = 0; k < bins; ++k) {
                out(k, t) = std::complex<float>(mag[k] * acc[k]);
                acc[k] *= u1[k] * std::conj(u0[k]);
                acc[k] /= std::abs(acc[k]);
            }
            continue;
        }
        std::size_t begin = 0;
        for (std::size_t i = 0; i < peaks.size(); ++i) {
            const std::size_t p = peaks[i];
            std::size_t end = bins;
            if (i + 1 < peaks.size()) {
                std::size_t trough = p + 1;
                for (std::size_t k = p + 1; k < peaks[i + 1]; ++k)
                    if (mag[k] < mag[trough]) trough = k;
                end = trough + 1;
            }
            C rotation = acc[p] * std::conj(u0[p]);
            rotation /= std::abs(rotation);
            for (std::size_t k = begin; k < end; ++k) {
                out(k, t) = std::complex<float>(mag[k] * u0[k] * rotation);
                acc[k] = u1[k] * rotation;
            }
            begin = end;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("phase vocoder: identity locking picks the same peaks and regions as a plain scan, ties included") {
    // Magnitudes from {0, 5, 10, 15}: plateaus, flat stretches at a peak's level, silent columns, and regions
    // that cross the 64-bin words of the bit sets (193 and 70 bins). Bins are integer multiples of (5, 0),
    // (3, 4) and their rotations by 90 degrees, whose magnitudes are exact in float and double, and integer
    // rates keep the interpolated magnitudes exact, so every tie stays a tie on both sides.
    const std::complex<float> directions[] = {{5, 0}, {0, 5}, {-5, 0}, {0, -5}, {3, 4}, {-4, 3}, {-3, -4}, {4, -3}};
    Rng rng(7);
    for (std::size_t bins : {std::size_t{193}, std::size_t{70}, std::size_t{2}}) {
        ComplexMatrix spectrum(bins, 40);
        for (std::size_t j = 0; j < spectrum.cols; ++j) {
            const bool silent = j % 13 == 5;
            // Long flat runs in some columns, so that some regions span more than one 64-bit word.
            const std::size_t run = j % 3 == 0 ? 90 : 1;
            double level = 0.0;
            for (std::size_t k = 0; k < bins; ++k) {
                if (k % run == 0) level = static_cast<double>(rng.below(4));
                const std::complex<float> direction = directions[rng.below(8)];
                spectrum(k, j) = silent ? std::complex<float>(0.0f) : static_cast<float>(level) * direction;
            }
        }
        for (double rate : {1.0, 2.0}) {
            const ComplexMatrix fast = phase_vocoder(spectrum, rate, 256, PhaseLocking::identity);
            const ComplexMatrix reference = reference_locked_vocoder(spectrum, rate);
            REQUIRE(fast.cols == reference.cols);
            double worst = 0.0;
            for (std::size_t t = 0; t < fast.cols; ++t)
                for (std::size_t k = 0; k < bins; ++k)
                    worst = std::max(worst, double(std::abs(fast(k, t) - reference(k, t))));
            INFO(bins << " bins, rate " << rate);
            REQUIRE(worst < 1e-4);
        }
    }
}
