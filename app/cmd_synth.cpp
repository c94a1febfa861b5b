// mtag synth: test tones now; the procedurally composed demo corpus comes with the data issue.
#include "app/command.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <cmath>
#include <iostream>
#include <numbers>

namespace mtag::app {

Command add_synth_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        double tone_hz = 0;
        double seconds = 2.0;
        int sample_rate = 22050;
        int channels = 1;
        double amplitude_db = -6.0;
        std::string out;
    };
    auto options = std::make_shared<Options>();
    CLI::App* cmd = root.add_subcommand("synth", "Synthesise audio: a test tone (--tone HZ)");
    cmd->add_option("--tone", options->tone_hz, "Frequency in Hz of a sine test tone")->required()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--seconds", options->seconds, "Duration in seconds")->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--sample-rate", options->sample_rate, "Sample rate in Hz")->capture_default_str()
        ->check(CLI::Range(1000, 384000));
    cmd->add_option("--channels", options->channels, "Channel count (the tone is copied to each)")
        ->capture_default_str()->check(CLI::Range(1, 8));
    cmd->add_option("--level-db", options->amplitude_db, "Peak level in dBFS")->capture_default_str()
        ->check(CLI::Range(-120.0, 0.0));
    cmd->add_option("--out,-o", options->out, "Output file (.wav, .flac, .ogg, .mp3)")->required();

    return {cmd, [options, &global]() {
        const Options& o = *options;
        if (o.tone_hz >= o.sample_rate / 2.0)
            throw UsageError("--tone " + std::to_string(o.tone_hz), "must be below Nyquist (" +
                                 std::to_string(o.sample_rate / 2) + " Hz for --sample-rate " +
                                 std::to_string(o.sample_rate) + ")");
        const auto frames = static_cast<std::size_t>(std::llround(o.seconds * o.sample_rate));
        dsp::Audio audio;
        audio.sample_rate = o.sample_rate;
        audio.channels = o.channels;
        audio.samples.resize(frames * o.channels);
        const double amplitude = std::pow(10.0, o.amplitude_db / 20.0);
        for (std::size_t i = 0; i < frames; ++i) {
            const double t = static_cast<double>(i) / o.sample_rate;
            const float v = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * o.tone_hz * t));
            for (int c = 0; c < o.channels; ++c) audio.samples[i * o.channels + c] = v;
        }
        dsp::save_audio(o.out, audio);
        if (!global.quiet) std::cerr << "mtag synth: wrote " << o.out << "\n";
        return 0;
    }};
}

}  // namespace mtag::app
