#pragma once
// Test signals and measurements shared by the DSP tests.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <random>
#include <span>
#include <vector>

namespace mtag::test {

// amplitude * sin(2π f n / sr) for n in [0, frames).
inline std::vector<float> sine(double frequency, int sample_rate, std::size_t frames, double amplitude = 0.5,
                               double phase = 0.0) {
    std::vector<float> x(frames);
    for (std::size_t n = 0; n < frames; ++n)
        x[n] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * frequency * n / sample_rate + phase));
    return x;
}

// `n` samples of seeded Gaussian noise, N(0, stddev^2): the same values for the same seed.
inline std::vector<float> gaussian_noise(std::size_t n, std::uint64_t seed, float stddev = 0.3f) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> x(n);
    for (auto& v : x) v = dist(rng);
    return x;
}

inline double rms(std::span<const float> x) {
    double sum = 0;
    for (float v : x) sum += static_cast<double>(v) * v;
    return x.empty() ? 0.0 : std::sqrt(sum / x.size());
}

inline double to_db(double ratio) { return 20.0 * std::log10(ratio); }

// Frequency of a clean sine from its upward zero crossings, linearly interpolated: accurate to well
// under 0.01 Hz over a second of signal.
inline double zero_crossing_frequency(std::span<const float> x, int sample_rate) {
    double first = -1, last = -1;
    std::size_t crossings = 0;
    for (std::size_t n = 1; n < x.size(); ++n) {
        if (x[n - 1] < 0 && x[n] >= 0) {
            const double t = (n - 1) + x[n - 1] / (x[n - 1] - x[n]);
            if (first < 0) first = t;
            last = t;
            ++crossings;
        }
    }
    if (crossings < 2) return 0.0;
    return (crossings - 1) * static_cast<double>(sample_rate) / (last - first);
}

}  // namespace mtag::test
