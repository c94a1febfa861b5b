#pragma once
// Test helpers: sine generation, Hann-windowed magnitude spectrum peaks and levels.
#include "dsp/fft.hpp"

#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

namespace mtag::test {

inline std::vector<float> sine(double frequency, int sample_rate, std::size_t n, double amplitude = 0.5) {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * frequency * i / sample_rate));
    return x;
}

// The FFT bin of the largest magnitude of x[start : start + n_fft] under a periodic Hann window.
inline std::size_t peak_bin(std::span<const float> x, std::size_t start, int n_fft) {
    const auto fft = dsp::real_fft(n_fft);
    std::vector<float> frame(n_fft);
    for (int i = 0; i < n_fft; ++i)
        frame[i] = x[start + i] * static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / n_fft));
    std::vector<std::complex<float>> spectrum(n_fft / 2 + 1);
    fft->forward(frame.data(), spectrum.data());
    std::size_t best = 0;
    for (std::size_t k = 1; k < spectrum.size(); ++k)
        if (std::abs(spectrum[k]) > std::abs(spectrum[best])) best = k;
    return best;
}

inline double rms_db(std::span<const float> x) {
    double sum = 0.0;
    for (float v : x) sum += static_cast<double>(v) * v;
    return 10.0 * std::log10(sum / static_cast<double>(x.size()));
}

}  // namespace mtag::test
