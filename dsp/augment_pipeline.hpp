#pragma once
// Online / offline augmentation: a list of random transforms, each applied with probability p and
// parameters drawn from ranges, in the spirit of audiomentations' Compose. Built once from JSON, then
// applied from any number of threads: every call draws from its own generator seeded by
// (seed, clip index, epoch, transform index), so a triple always gives the same audio on any thread, in
// any order, and changing one transform's settings leaves the other transforms' draws unchanged.
//
// JSON: {"transforms": [{"type": "pitch_shift", "p": 0.5, "semitones": [-4, 4]}, ...]}. Types and keys
// (ranges are [min, max], drawn uniformly unless noted):
//   pitch_shift      semitones [-4, 4], n_fft (0 = default for the rate), phase_locking "identity"|"none",
//                    resample_quality "soxr_hq" (any name of dsp/resample.hpp: soxr_vhq .. soxr_qq,
//                    sinc_best .. sinc_fastest, or the aliases best/medium/fastest; why soxr_hq:
//                    dsp/pitch_shift.hpp)
//   time_stretch     rate [0.8, 1.25] (drawn log-uniformly, so slower and faster are equally likely),
//                    keep_length true (pad or cut back to the input's length), n_fft, phase_locking
//   seven_band_eq    gain_db [-12, 12], q [0.5, 1.33] (log-uniform)
//   filter           filter "peaking"|"low_shelf"|"high_shelf"|..., frequency_hz [50, 8000] (mel-uniform),
//                    gain_db [-12, 12], q [0.5, 2] (log-uniform)
//   coloured_noise   snr_db [5, 40], beta [0, 2] (0 white, 1 pink, 2 brown) or "color": "pink"
//   background_noise snr_db [5, 40], files ["noise.wav", ...] (paths relative to the JSON file),
//                    sample_rate (the rate the clips will have; the files are resampled to it once)
//   gain             gain_db [-12, 12]
//   polarity         (no parameters)
//   shift            fraction [-0.5, 0.5] of the clip length, or seconds [min, max] instead when given;
//                    zeros fill the gap (no roll-over)
//   crop             seconds (required): a random window of that length, zero-padded if the clip is shorter
// Every transform takes "p" (probability, default 0.5; 1.0 for crop).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// A closed range [min, max] of a parameter.
struct ParamRange {
    double min = 0.0;
    double max = 0.0;
};

// One configured transform (what the JSON says, validated, with defaults filled in).
struct AugmentTransform {
    std::string type;
    double p = 0.5;
    nlohmann::json settings;                     // validated settings, defaults filled in
    std::vector<std::vector<float>> recordings;  // background_noise only: decoded at `sample_rate`
    int recording_sample_rate = 0;
};

// What one application produced: the audio and, for each transform that fired, its drawn parameters
// ({"type": "pitch_shift", "semitones": 1.73}, ...) in order, for debugging and the training log.
struct AugmentResult {
    std::vector<float> audio;
    nlohmann::ordered_json applied = nlohmann::ordered_json::array();
};

class AugmentPipeline {
  public:
    // The default pipeline: pitch +-4 semitones, stretch 0.8-1.25 keeping the length, coloured noise at
    // 5-40 dB SNR, seven-band EQ +-12 dB and gain +-12 dB, each with p = 0.5.
    AugmentPipeline();
    // Validates the configuration (throws mtag::Error naming the transform and key); `base_dir` resolves
    // relative noise file paths.
    explicit AugmentPipeline(const nlohmann::json& config, const std::filesystem::path& base_dir = {});
    // Reads a JSON configuration file.
    static AugmentPipeline from_file(const std::filesystem::path& path);
    // The default configuration as JSON (what AugmentPipeline() uses).
    static nlohmann::json default_config();

    // Augments mono audio. Thread-safe (const, no shared mutable state). The same (seed, clip, epoch)
    // always gives the same result. Output length equals the input's except after `crop`.
    AugmentResult apply(std::span<const float> audio, int sample_rate, std::uint64_t seed,
                        std::uint64_t clip_index = 0, std::uint64_t epoch = 0) const;

    // The same transforms applied to `audio` in place, without recording what fired (the data loader's
    // hot path: no copy of the input, no JSON). Gives exactly apply()'s audio.
    void apply_in_place(std::vector<float>& audio, int sample_rate, std::uint64_t seed,
                        std::uint64_t clip_index = 0, std::uint64_t epoch = 0) const;

    // The configuration with every default filled in.
    nlohmann::json to_json() const;
    const std::vector<AugmentTransform>& transforms() const { return m_transforms; }

  private:
    void run(std::vector<float>& audio, int sample_rate, std::uint64_t seed, std::uint64_t clip_index,
             std::uint64_t epoch, nlohmann::ordered_json* applied) const;

    std::vector<AugmentTransform> m_transforms;
};

}  // namespace mtag::dsp
