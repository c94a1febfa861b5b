// mtag augment IN OUT: applies audio effects (explicit flags) or a random augmentation pipeline (JSON) to
// one file, writing one or --count variations. The explicit flags become a pipeline of transforms that
// always fire with fixed parameters, so both paths run the same code and print the same record.
#include "app/command.hpp"
#include "app/resample_flag.hpp"
#include "data/progress/progress.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/biquad.hpp"
#include "dsp/error.hpp"
#include "dsp/noise.hpp"
#include "dsp/pitch_shift.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace mtag::app {

namespace {

using json = nlohmann::json;

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return parts;
}

double parse_number(const std::string& text, const std::string& flag) {
    std::size_t used = 0;
    double value = 0.0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size()) throw UsageError(flag, "'" + text + "' is not a number");
    return value;
}

json fixed(double value) {
    return json::array({value, value});
}

struct AugmentOptions {
    std::string input, output;
    std::string pipeline;
    int count = 1;
    std::uint64_t epoch = 0;
    std::uint64_t clip_index = 0;
    double pitch_shift = 0.0;
    double time_stretch = 1.0;
    std::vector<std::string> eq;
    std::vector<std::string> noise;
    std::vector<std::string> background_noise;
    double gain_db = 0.0;
    bool polarity = false;
    double shift_seconds = 0.0;
    bool float_output = false;
    std::string resample_quality = dsp::to_string(dsp::default_pitch_shift_quality);  // dsp/pitch_shift.hpp says why
};

// The explicit flags as a pipeline configuration, in a fixed order: pitch, stretch, EQ, noise, gain,
// polarity, shift.
json flags_to_config(const AugmentOptions& o, int sample_rate, CLI::App* cmd) {
    json transforms = json::array();
    if (cmd->count("--pitch-shift"))
        transforms.push_back({{"type", "pitch_shift"},
                              {"p", 1.0},
                              {"semitones", fixed(o.pitch_shift)},
                              {"resample_quality", o.resample_quality}});
    if (cmd->count("--time-stretch"))
        transforms.push_back(
            {{"type", "time_stretch"}, {"p", 1.0}, {"rate", fixed(o.time_stretch)}, {"keep_length", false}});
    for (const std::string& spec : o.eq) {
        const auto parts = split(spec, ':');
        if (parts.size() < 3 || parts.size() > 4)
            throw UsageError("--eq " + spec, "expected TYPE:FREQ_HZ:GAIN_DB[:Q], e.g. peaking:1000:6:1.0");
        dsp::BiquadType type{};
        try {
            type = dsp::parse_biquad_type(parts[0]);
        } catch (const Error& e) {
            throw UsageError(std::string("--eq: ") + e.what());
        }
        const double q = parts.size() == 4 ? parse_number(parts[3], "--eq") : 0.7071067811865476;
        transforms.push_back({{"type", "filter"},
                              {"p", 1.0},
                              {"filter", dsp::to_string(type)},
                              {"frequency_hz", fixed(parse_number(parts[1], "--eq"))},
                              {"gain_db", fixed(parse_number(parts[2], "--eq"))},
                              {"q", fixed(q)}});
    }
    for (const std::string& spec : o.noise) {
        const auto parts = split(spec, ':');
        if (parts.size() != 2) throw UsageError("--noise " + spec, "expected COLOUR:SNR_DB, e.g. pink:20");
        double beta = 0.0;
        try {
            beta = dsp::parse_noise_beta(parts[0]);
        } catch (const Error& e) {
            throw UsageError(std::string("--noise: ") + e.what());
        }
        transforms.push_back({{"type", "coloured_noise"},
                              {"p", 1.0},
                              {"beta", fixed(beta)},
                              {"snr_db", fixed(parse_number(parts[1], "--noise"))}});
    }
    for (const std::string& spec : o.background_noise) {
        const std::size_t colon = spec.rfind(':');
        if (colon == std::string::npos)
            throw UsageError("--background-noise " + spec, "expected FILE:SNR_DB, e.g. rain.wav:10");
        transforms.push_back({{"type", "background_noise"},
                              {"p", 1.0},
                              {"files", {spec.substr(0, colon)}},
                              {"sample_rate", sample_rate},
                              {"snr_db", fixed(parse_number(spec.substr(colon + 1), "--background-noise"))}});
    }
    if (cmd->count("--gain"))
        transforms.push_back({{"type", "gain"}, {"p", 1.0}, {"gain_db", fixed(o.gain_db)}});
    if (o.polarity) transforms.push_back({{"type", "polarity"}, {"p", 1.0}});
    if (cmd->count("--shift")) {
        transforms.push_back({{"type", "shift"}, {"p", 1.0}, {"seconds", fixed(o.shift_seconds)}});
    }
    return {{"transforms", transforms}};
}

// OUT for variation k of n: OUT itself when n == 1, else stem_k.ext.
std::filesystem::path variation_path(const std::filesystem::path& out, int k, int n) {
    if (n == 1) return out;
    return out.parent_path() / (out.stem().string() + "_" + std::to_string(k) + out.extension().string());
}

}  // namespace

Command add_augment_command(CLI::App& root, const GlobalOptions& global) {
    auto options = std::make_shared<AugmentOptions>();
    AugmentOptions& o = *options;
    CLI::App* cmd =
        root.add_subcommand("augment", "Apply audio effects or a random augmentation pipeline to a file");
    cmd->add_option("input", o.input, "Input audio file")->required();
    cmd->add_option("output", o.output, "Output audio file (.wav, .flac, .ogg, .mp3)")->required();
    auto* pipeline = cmd->add_option("--pipeline", o.pipeline,
                                     "Random pipeline from a JSON file (see dsp/augment_pipeline.hpp)");
    cmd->add_option("--count", o.count,
                    "With --pipeline: write N variations OUT_0 ... OUT_{N-1} (clip index 0..N-1)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    cmd->add_option("--epoch", o.epoch, "With --pipeline: the epoch of the (seed, clip, epoch) triple")
        ->capture_default_str();
    cmd->add_option("--clip-index", o.clip_index, "With --pipeline: the first clip index")
        ->capture_default_str();
    std::vector<CLI::Option*> effects;
    effects.push_back(
        cmd->add_option("--pitch-shift", o.pitch_shift, "Shift pitch by SEMITONES (fractional, -24..24)")
            ->check(CLI::Range(-24.0, 24.0)));
    effects.push_back(
        cmd->add_option("--time-stretch", o.time_stretch, "Stretch by RATE (> 1 faster/shorter, 0.25..4)")
            ->check(CLI::Range(0.25, 4.0)));
    effects.push_back(cmd->add_option("--eq", o.eq,
                                      "Filter TYPE:FREQ_HZ:GAIN_DB[:Q] (peaking, low_shelf, high_shelf, "
                                      "low_pass, high_pass, band_pass); repeatable"));
    effects.push_back(cmd->add_option("--noise", o.noise,
                                      "Add COLOUR:SNR_DB noise (white, pink, brown or beta); repeatable"));
    effects.push_back(
        cmd->add_option("--background-noise", o.background_noise,
                        "Add a recording FILE:SNR_DB from a seeded random offset, looped; repeatable"));
    effects.push_back(cmd->add_option("--gain", o.gain_db, "Gain in dB")->check(CLI::Range(-120.0, 60.0)));
    effects.push_back(cmd->add_flag("--polarity", o.polarity, "Invert the polarity"));
    effects.push_back(
        cmd->add_option("--shift", o.shift_seconds, "Shift by SECONDS (negative: earlier), zero-padded"));
    for (CLI::Option* effect : effects) pipeline->excludes(effect);
    add_resample_quality_flag(cmd, o.resample_quality, "Resampler of --pitch-shift (dsp/pitch_shift.hpp says why its default)");
    cmd->add_flag("--float", o.float_output, "Write 32-bit float samples (WAV) instead of 16-bit PCM");
    cmd->footer(
        "Channels are processed one by one with the same random draws. Prints one JSON line per output "
        "with the transforms that fired and their parameters. Random choices use --seed.");

    return {cmd, [options, &global, cmd]() {
                const AugmentOptions& o = *options;
                if (o.count > 1 && o.pipeline.empty())
                    throw UsageError(
                        "--count", "only makes sense with --pipeline (the explicit effects are not random)");
                const dsp::Audio input = dsp::load_audio(o.input, {.mono = false});
                dsp::AugmentPipeline pipeline = [&] {
                    if (!o.pipeline.empty()) return dsp::AugmentPipeline::from_file(o.pipeline);
                    json config = flags_to_config(o, input.sample_rate, cmd);
                    if (config["transforms"].empty())
                        throw UsageError("mtag augment",
                                         "no effect given (use --pipeline or e.g. --pitch-shift 2)");
                    try {
                        return dsp::AugmentPipeline(config);
                    } catch (const UsageError&) {
                        throw;
                    } catch (const Error& e) {
                        throw UsageError(e.what());  // the flags' values were wrong
                    }
                }();
                const std::size_t frames = input.frames();
                const int channels = input.channels;
                std::vector<float> channel(frames);
                // Variations done / total, rate and ETA on stderr (only worth a bar for --count > 1).
                data::Progress progress("augment", static_cast<std::size_t>(o.count), !global.quiet && o.count > 1,
                                        5.0, "variations");
                for (int k = 0; k < o.count; ++k) {
                    const std::uint64_t clip = o.clip_index + static_cast<std::uint64_t>(k);
                    dsp::Audio output;
                    output.sample_rate = input.sample_rate;
                    output.channels = channels;
                    nlohmann::ordered_json applied;
                    for (int c = 0; c < channels; ++c) {
                        for (std::size_t i = 0; i < frames; ++i) channel[i] = input.samples[i * channels + c];
                        dsp::AugmentResult result =
                            pipeline.apply(channel, input.sample_rate, global.seed, clip, o.epoch);
                        if (c == 0) {
                            output.samples.assign(result.audio.size() * channels, 0.0f);
                            applied = std::move(result.applied);
                        }
                        const std::size_t n = std::min(result.audio.size(), output.samples.size() / channels);
                        for (std::size_t i = 0; i < n; ++i)
                            output.samples[i * channels + c] = result.audio[i];
                    }
                    const auto path = variation_path(o.output, k, o.count);
                    dsp::save_audio(path, output,
                                    o.float_output ? dsp::SampleFormat::float32 : dsp::SampleFormat::pcm16);
                    nlohmann::ordered_json line = {{"input", o.input},    {"output", path.string()},
                                                   {"seed", global.seed}, {"clip_index", clip},
                                                   {"epoch", o.epoch},    {"frames", output.frames()},
                                                   {"applied", applied}};
                    std::cout << line.dump() << "\n";
                    if (!global.quiet) progress.message("mtag augment: wrote " + path.string());
                    progress.advance();
                }
                progress.finish();
                return 0;
            }};
}

}  // namespace mtag::app
