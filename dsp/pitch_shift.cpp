#include "dsp/pitch_shift.hpp"

#include "dsp/error.hpp"

#include <samplerate.h>

#include <cmath>
#include <memory>
#include <string>

namespace mtag::dsp {

namespace {

int converter_type(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::best: return SRC_SINC_BEST_QUALITY;
        case ResampleQuality::medium: return SRC_SINC_MEDIUM_QUALITY;
        case ResampleQuality::fastest: return SRC_SINC_FASTEST;
    }
    return SRC_SINC_MEDIUM_QUALITY;
}

}  // namespace

std::vector<float> resample_to_length(std::span<const float> x, double ratio, std::size_t length,
                                      ResampleQuality quality) {
    std::vector<float> out(length, 0.0f);
    if (x.empty() || length == 0) return out;
    if (src_is_valid_ratio(ratio) == 0)
        throw Error("resample", "ratio " + std::to_string(ratio) + " is outside libsamplerate's 1/256..256");
    int error = 0;
    std::unique_ptr<SRC_STATE, decltype(&src_delete)> state(src_new(converter_type(quality), 1, &error),
                                                            &src_delete);
    if (!state) throw Error("resample", std::string("libsamplerate: ") + src_strerror(error));
    // One call with the whole input and end_of_input set; libsamplerate keeps the output time-aligned.
    std::size_t produced = 0, consumed = 0;
    while (produced < length) {
        SRC_DATA data{};
        data.data_in = x.data() + consumed;
        data.input_frames = static_cast<long>(x.size() - consumed);
        data.data_out = out.data() + produced;
        data.output_frames = static_cast<long>(length - produced);
        data.end_of_input = 1;
        data.src_ratio = ratio;
        error = src_process(state.get(), &data);
        if (error != 0) throw Error("resample", std::string("libsamplerate: ") + src_strerror(error));
        consumed += static_cast<std::size_t>(data.input_frames_used);
        produced += static_cast<std::size_t>(data.output_frames_gen);
        if (data.output_frames_gen == 0) break;  // drained: the rest stays zero
    }
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
