#include "dsp/simple_effects.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::dsp {

void apply_gain_db(std::span<float> samples, double gain_db) {
    const auto factor = static_cast<float>(std::pow(10.0, gain_db / 20.0));
    for (float& v : samples) v *= factor;
}

void invert_polarity(std::span<float> samples) {
    for (float& v : samples) v = -v;
}

void shift(std::span<float> samples, std::int64_t amount) {
    const auto n = static_cast<std::int64_t>(samples.size());
    if (amount >= n || -amount >= n) {
        std::fill(samples.begin(), samples.end(), 0.0f);
    } else if (amount > 0) {
        std::copy_backward(samples.begin(), samples.end() - amount, samples.end());
        std::fill(samples.begin(), samples.begin() + amount, 0.0f);
    } else if (amount < 0) {
        std::copy(samples.begin() - amount, samples.end(), samples.begin());
        std::fill(samples.end() + amount, samples.end(), 0.0f);
    }
}

std::vector<float> crop(std::span<const float> samples, std::int64_t start, std::size_t length) {
    std::vector<float> out(length, 0.0f);
    const auto n = static_cast<std::int64_t>(samples.size());
    const std::int64_t first = std::max<std::int64_t>(start, 0);
    const std::int64_t last = std::min<std::int64_t>(start + static_cast<std::int64_t>(length), n);
    for (std::int64_t i = first; i < last; ++i) out[static_cast<std::size_t>(i - start)] = samples[i];
    return out;
}

void fix_length(std::vector<float>& samples, std::size_t length) { samples.resize(length, 0.0f); }

}  // namespace mtag::dsp
