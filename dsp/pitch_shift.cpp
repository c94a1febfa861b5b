#include "dsp/pitch_shift.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

namespace mtag::dsp {

std::vector<float> resample_to_length(std::span<const float> x, double ratio, std::size_t length,
                                      ResampleQuality quality) {
    if (x.empty() || length == 0) return std::vector<float>(length, 0.0f);
    StreamingResampler resampler(1, ratio, quality);
    std::vector<float> out;
    out.reserve(std::max(length, static_cast<std::size_t>(std::llround(static_cast<double>(x.size()) * ratio))));
    resampler.process(x, out);
    resampler.finish(out);  // round(x.size() * ratio) samples, time-aligned
    out.resize(length, 0.0f);
    return out;
}

std::vector<float> pitch_shift(std::span<const float> x, int sample_rate, double semitones,
                               const PitchShiftOptions& options) {
    if (sample_rate <= 0) throw Error("pitch shift", "sample rate must be positive");
    if (!(std::abs(semitones) <= max_pitch_shift_semitones))
        throw Error("pitch shift by " + std::to_string(semitones) + " semitones", "must lie in [-24, 24]");
    if (semitones == 0.0 || x.empty()) return {x.begin(), x.end()};
    TimeStretchOptions stretch = options.stretch;
    stretch.sample_rate = sample_rate;
    const double rate = std::exp2(-semitones / 12.0);
    const std::vector<float> stretched = time_stretch(x, rate, stretch);
    // The stretched signal has round(len / rate) samples; resampling by len / that count brings it back
    // to len exactly, which differs from `rate` only by the rounding of the stretched length.
    const double ratio = static_cast<double>(x.size()) / static_cast<double>(stretched.size());
    return resample_to_length(stretched, ratio, x.size(), options.resample_quality);
}

}  // namespace mtag::dsp
