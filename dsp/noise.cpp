#include "dsp/noise.hpp"

#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <mutex>

namespace mtag::dsp {

namespace {

// Noise is shaped over long power-of-two FFTs (up to 2^21 and more), for which FFTW_MEASURE planning takes
// seconds; these plans are made with FFTW_ESTIMATE and cached here, apart from the measured ones.
std::shared_ptr<const RealFft> estimated_fft(int n) {
    static std::mutex mutex;
    static std::map<int, std::shared_ptr<const RealFft>> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = cache[n];
    if (!slot) slot = std::make_shared<const RealFft>(n, FftPlanning::estimate);
    return slot;
}

}  // namespace

double parse_noise_beta(const std::string& text) {
    if (text == "white") return beta_white;
    if (text == "pink") return beta_pink;
    if (text == "brown" || text == "red" || text == "brownian") return beta_brown;
    std::size_t used = 0;
    double beta = 0.0;
    try {
        beta = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || !(beta >= 0.0 && beta <= 3.0))
        throw Error("noise colour '" + text + "'",
                    "expected white, pink, brown or an exponent beta in [0, 3]");
    return beta;
}

double rms(std::span<const float> samples) {
    if (samples.empty()) return 0.0;
    // Eight partial sums in a fixed order: the additions no longer wait on each other (one chain ran at an
    // add's latency per sample), and the result stays the same on any machine.
    double partial[8] = {};
    const std::size_t n = samples.size(), blocks = n / 8 * 8;
    const float* x = samples.data();
    for (std::size_t i = 0; i < blocks; i += 8)
        for (std::size_t j = 0; j < 8; ++j) partial[j] += static_cast<double>(x[i + j]) * x[i + j];
    double sum = 0.0;
    for (double p : partial) sum += p;
    for (std::size_t i = blocks; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    return std::sqrt(sum / static_cast<double>(n));
}

std::vector<float> coloured_noise(std::size_t n, double beta, Rng& rng) {
    if (!(beta >= 0.0 && beta <= 3.0) || !std::isfinite(beta))
        throw Error("coloured noise", "beta must lie in [0, 3], got " + std::to_string(beta));
    std::vector<float> out(n);
    if (n == 0) return out;
    if (beta == 0.0) {
        fill_normal(rng, out);
    } else {
        // Power-of-two sizes keep the set of cached FFT plans small whatever the clip lengths are.
        const std::size_t size = std::max<std::size_t>(std::bit_ceil(n), 16);
        const auto fft = estimated_fft(static_cast<int>(size));
        FftBuffer<float> white = fft_alloc_real(size);
        fill_normal(rng, std::span<float>(white.get(), size));
        FftBuffer<std::complex<float>> spectrum = fft_alloc_complex(size / 2 + 1);
        fft->forward(white.get(), spectrum.get());
        spectrum[0] = 0.0f;                   // no DC: a 1/f^beta spectrum has none to give it
        const double exponent = -beta / 2.0;  // amplitude ~ f^(-beta/2) for power ~ f^-beta
        for (std::size_t k = 1; k <= size / 2; ++k)
            spectrum[k] *= static_cast<float>(std::exp(exponent * std::log(static_cast<double>(k))));
        fft->inverse(spectrum.get(), white.get());
        std::copy_n(white.get(), n, out.begin());
    }
    const double level = rms(out);
    if (level > 0.0) {
        const auto scale = static_cast<float>(1.0 / level);
        for (float& v : out) v *= scale;
    }
    return out;
}

void mix_at_snr(std::span<float> signal, std::span<const float> noise, double snr_db) {
    if (noise.size() != signal.size())
        throw Error("mix at SNR", "noise has " + std::to_string(noise.size()) + " samples, signal has " +
                                      std::to_string(signal.size()));
    if (!std::isfinite(snr_db)) throw Error("mix at SNR", "snr_db must be finite");
    const double signal_rms = rms(signal);
    const double noise_rms = rms(noise);
    if (signal_rms == 0.0 || noise_rms == 0.0) return;
    const auto scale = static_cast<float>(signal_rms / (noise_rms * std::pow(10.0, snr_db / 20.0)));
    for (std::size_t i = 0; i < signal.size(); ++i) signal[i] += scale * noise[i];
}

void add_coloured_noise(std::span<float> signal, double beta, double snr_db, Rng& rng) {
    const std::vector<float> noise = coloured_noise(signal.size(), beta, rng);
    mix_at_snr(signal, noise, snr_db);
}

std::size_t add_noise_recording(std::span<float> signal, std::span<const float> recording, double snr_db,
                                Rng& rng) {
    if (recording.empty()) throw Error("noise recording", "is empty");
    const std::size_t offset = static_cast<std::size_t>(rng.below(recording.size()));
    std::vector<float> noise(signal.size());
    std::size_t position = offset;
    for (float& v : noise) {
        v = recording[position];
        if (++position == recording.size()) position = 0;
    }
    mix_at_snr(signal, noise, snr_db);
    return offset;
}

}  // namespace mtag::dsp
