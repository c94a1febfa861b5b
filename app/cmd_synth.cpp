// mtag synth: a sine test tone (--tone), or the synthetic demo corpus rendered with fluidsynth (--clips).
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "data/progress/progress.hpp"
#include "data/synth/renderer.hpp"
#include "data/synth/corpus.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>

namespace mtag::app {
namespace {

struct SynthOptions {
    double tone_hz = 0;
    int clips = 0;
    double seconds = 0;  // 0: the mode's default (2 s tone, 10 s clips)
    int sample_rate = 22050;
    int channels = 1;
    double amplitude_db = -6.0;
    std::string soundfont;
    std::string out;
};

int write_tone(const SynthOptions& o, const GlobalOptions& global) {
    if (o.tone_hz >= o.sample_rate / 2.0)
        throw UsageError("--tone " + std::to_string(o.tone_hz),
                         "must be below Nyquist (" + std::to_string(o.sample_rate / 2) +
                             " Hz for --sample-rate " + std::to_string(o.sample_rate) + ")");
    const double seconds = o.seconds > 0 ? o.seconds : 2.0;
    const auto frames = static_cast<std::int64_t>(std::llround(seconds * o.sample_rate));
    const double amplitude = std::pow(10.0, o.amplitude_db / 20.0);
    // Written block by block: a 10-hour stereo tone (a long-file test input) would be 12 GB as one buffer.
    dsp::save_audio_blocks(o.out, o.sample_rate, o.channels, frames, [&](std::int64_t first, std::span<float> block) {
        const auto n = static_cast<std::int64_t>(block.size()) / o.channels;
        for (std::int64_t i = 0; i < n; ++i) {
            const double t = static_cast<double>(first + i) / o.sample_rate;
            const float v = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * o.tone_hz * t));
            for (int c = 0; c < o.channels; ++c) block[static_cast<std::size_t>(i * o.channels + c)] = v;
        }
    });
    if (!global.quiet) std::cerr << "mtag synth: wrote " << o.out << "\n";
    return 0;
}

int write_corpus(const SynthOptions& o, const GlobalOptions& global) {
    data::SynthCorpusOptions corpus;
    corpus.out = o.out;
    corpus.clips = o.clips;
    corpus.seconds = o.seconds > 0 ? o.seconds : 10.0;
    corpus.sample_rate = o.sample_rate;
    corpus.channels = o.channels;
    corpus.seed = global.seed;
    corpus.soundfont = o.soundfont;
    corpus.threads = global.resolved_threads();
    // Clips rendered / total, clips/s and ETA on stderr (data/progress: a bar on a terminal, a line every
    // 5 s in a log, nothing with --quiet).
    data::Progress progress("synth", static_cast<std::size_t>(o.clips), !global.quiet, 5.0, "clips");
    corpus.progress = [&progress](int, int) { progress.advance(); };
    const auto clips = data::write_synth_corpus(corpus);
    progress.finish();
    if (!global.quiet) {
        int counts[3] = {0, 0, 0};
        for (const auto& clip : clips) ++counts[clip.split == "train" ? 0 : clip.split == "valid" ? 1 : 2];
        std::cerr << "mtag synth: wrote " << clips.size() << " clips (" << counts[0] << " train, "
                  << counts[1] << " valid, " << counts[2] << " test) and "
                  << (corpus.out / "manifest.csv").string() << "\n";
    }
    return 0;
}

}  // namespace

Command add_synth_command(CLI::App& root, const GlobalOptions& global) {
    auto options = std::make_shared<SynthOptions>();
    CLI::App* cmd = root.add_subcommand(
        "synth",
        "Synthesise audio, in one of two modes:\n"
        "  test tone:   mtag synth --tone HZ --out FILE [--seconds 2] [--channels] [--level-db]\n"
        "  demo corpus: mtag synth --clips N --out DIR [--seconds 10] [--sample-rate] [--seed K]\n"
        "               [--soundfont SF2] [--threads T]\n"
        "The corpus renders procedurally composed music (8 genres) through fluidsynth into\n"
        "DIR/audio/*.wav, DIR/manifest.csv (path,tags,split) and DIR/synth.json. Tags: the genre;\n"
        "the instrument families that play (piano organ guitar bass strings brass woodwind synth\n"
        "voice drums); slow (< 95 BPM) or fast (>= 125 BPM), neither in between; major or minor.\n"
        "Splits: per genre 70/10/20 train/valid/test. The same --seed gives identical bytes.");
    CLI::Option* tone =
        cmd->add_option("--tone", options->tone_hz, "Test tone mode: frequency in Hz of a sine")
            ->check(positive);
    CLI::Option* clips = cmd->add_option("--clips", options->clips, "Corpus mode: number of clips to render")
                             ->check(positive);
    tone->excludes(clips);
    cmd->add_option("--seconds", options->seconds, "Duration in seconds (tone: default 2; clips: default 10)")
        ->check(positive);
    cmd->add_option("--sample-rate", options->sample_rate, "Sample rate in Hz (corpus: 8000-96000)")
        ->capture_default_str()
        ->check(CLI::Range(1000, 384000));
    cmd->add_option("--channels", options->channels, "Channel count (tone: copied to each; corpus: 1 or 2)")
        ->capture_default_str()
        ->check(CLI::Range(1, 8));
    cmd->add_option("--level-db", options->amplitude_db, "Tone mode: peak level in dBFS")
        ->capture_default_str()
        ->check(CLI::Range(-120.0, 0.0));
    cmd->add_option(
        "--soundfont", options->soundfont,
        "Corpus mode: General MIDI .sf2 (default " + data::synth::default_soundfont().string() + ")");
    cmd->add_option("--out,-o", options->out, "Tone: output file (.wav, .flac, .ogg, .mp3); corpus: folder")
        ->required();

    return {cmd, [options, tone, clips, &global]() {
                if (tone->count() > 0) return write_tone(*options, global);
                if (clips->count() > 0) return write_corpus(*options, global);
                throw UsageError("mtag synth", "give --tone HZ (a test tone) or --clips N (the demo corpus)");
            }};
}

}  // namespace mtag::app
