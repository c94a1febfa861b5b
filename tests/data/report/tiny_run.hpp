#pragma once
// A run whose behaviour is known, for the taggram and report tests: a tiny cnn1d trained (one thread, fixed
// seed: deterministic) on 0.5 s clips at 8 kHz that hold either a 250 Hz tone ("low") or a 2500 Hz tone
// ("high"), with random phase and level. A few seconds of training separate the two tones.
#include "data/fixtures.hpp"
#include "data/train/trainer.hpp"
#include "dsp/audio_io.hpp"

#include <cmath>
#include <numbers>
#include <random>

namespace mtag::test {

constexpr int k_tiny_rate = 8000;

// Mono samples of a tone at `hz`.
inline std::vector<float> tiny_tone(double hz, double seconds, float amplitude = 0.3f, double phase = 0) {
    std::vector<float> x(static_cast<std::size_t>(seconds * k_tiny_rate));
    for (std::size_t n = 0; n < x.size(); ++n)
        x[n] = amplitude * static_cast<float>(std::sin(2 * std::numbers::pi * hz * n / k_tiny_rate + phase));
    return x;
}

// Trains the run into dir/run (clips in dir/audio, manifest in dir/manifest.csv: train, valid and test
// splits) and returns the run folder.
inline std::filesystem::path train_tiny_tone_run(const std::filesystem::path& dir, int epochs = 10) {
    data::Dataset d;
    d.format = "csv";
    d.source = dir;
    d.vocabulary = {"high", "low"};
    std::mt19937_64 rng(11);
    std::string manifest = "path,tags,split\n";
    for (int i = 0; i < 40; ++i) {
        const bool high = i % 2 == 0;
        const double phase = (rng() % 1000) / 1000.0 * 2 * std::numbers::pi;
        const float level = 0.1f + 0.3f * static_cast<float>(rng() % 1000) / 1000.0f;
        const auto path = dir / "audio" / ("clip" + std::to_string(i) + ".wav");
        std::filesystem::create_directories(path.parent_path());
        dsp::save_audio(path, dsp::Audio{tiny_tone(high ? 2500 : 250, 0.5, level, phase), k_tiny_rate, 1});
        data::Clip c;
        c.id = "clip" + std::to_string(i);
        c.audio_path = path;
        c.tags = {static_cast<std::uint8_t>(high), static_cast<std::uint8_t>(!high)};
        c.split = i < 28 ? data::Split::train : i < 34 ? data::Split::valid : data::Split::test;
        c.duration_seconds = 0.5;
        d.clips.push_back(c);
        manifest += "audio/clip" + std::to_string(i) + ".wav," + (high ? "high" : "low") + "," +
                    (i < 28 ? "train" : i < 34 ? "valid" : "test") + "\n";
    }
    write_text(dir / "manifest.csv", manifest);
    nlohmann::json j = {{"batch_size", 8}, {"epochs", epochs}, {"seed", 3}, {"threads", 1},
                        {"optimizer", {{"name", "adam"}, {"lr", 3e-3}}}, {"evaluation", {{"eval_chunks", 2}}}};
    j["model"] = {{"preset", "cnn1d"}, {"n_mels", 16}, {"input_frames", 32}, {"channels", {8, 8}},
                  {"kernel_sizes", {3, 3}}, {"pools", {2, 1}}, {"dense", {8}}};
    j["features"] = {{"kind", "logmel"}, {"sample_rate", k_tiny_rate}, {"n_fft", 256}, {"hop_length", 64},
                     {"n_mels", 16}, {"fmax", 4000.0}};
    data::TrainConfig config = data::TrainConfig::from_json(j);
    config.resolve();
    data::TrainerOptions options{.out_dir = dir / "run", .quiet = true, .mtag_version = "test"};
    data::train(config, d, options);
    return dir / "run";
}

}  // namespace mtag::test
