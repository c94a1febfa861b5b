// mtag bench io: decode + resample throughput, 30 s of 44.1 kHz stereo to 16 kHz mono, per quality.
#include "app/bench.hpp"
#include "dsp/audio_io.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>
#include <random>

namespace mtag::app {

namespace {

// A 30 s stereo test signal: two tones plus a little noise, so encoders have real work.
dsp::Audio make_test_audio(int sample_rate, double seconds, std::uint64_t seed) {
    dsp::Audio audio;
    audio.sample_rate = sample_rate;
    audio.channels = 2;
    const auto frames = static_cast<std::size_t>(seconds * sample_rate);
    audio.samples.resize(frames * 2);
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.01f);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        audio.samples[2 * i] = static_cast<float>(0.4 * std::sin(2 * std::numbers::pi * 440.0 * t)) + noise(rng);
        audio.samples[2 * i + 1] = static_cast<float>(0.4 * std::sin(2 * std::numbers::pi * 660.0 * t)) + noise(rng);
    }
    return audio;
}

}  // namespace

int bench_io(const BenchContext& context) {
    const double seconds = 30.0;
    const dsp::Audio audio = make_test_audio(44100, seconds, context.global->seed);
    const int repeats = context.quick ? 1 : 5;
    if (!context.json)
        std::printf("decode + resample, %.0f s of 44.1 kHz stereo -> 16 kHz mono, single thread\n"
                    "%-6s %-8s %14s %16s\n", seconds, "format", "quality", "CPU s / file", "audio s / CPU s");
    for (const char* ext : {".wav", ".flac", ".mp3"}) {
        const auto path = context.work_dir / (std::string("bench_io") + ext);
        dsp::save_audio(path, audio);
        for (auto quality : {dsp::ResampleQuality::fastest, dsp::ResampleQuality::medium,
                             dsp::ResampleQuality::best}) {
            dsp::LoadOptions options{.sample_rate = 16000, .mono = true, .resample_quality = quality};
            const double start = process_cpu_seconds();
            std::size_t frames = 0;
            for (int r = 0; r < repeats; ++r) frames += dsp::load_audio(path, options).frames();
            const double cpu = (process_cpu_seconds() - start) / repeats;
            const double speed = seconds / cpu;
            if (context.json) {
                std::cout << nlohmann::json{{"bench", "io"}, {"format", ext + 1}, {"quality", dsp::to_string(quality)},
                                            {"cpu_seconds", cpu}, {"audio_seconds_per_cpu_second", speed},
                                            {"frames_out", frames / repeats}}
                                 .dump()
                          << "\n";
            } else {
                std::printf("%-6s %-8s %14.4f %16.1f\n", ext + 1, dsp::to_string(quality).c_str(), cpu, speed);
            }
        }
    }
    return 0;
}

}  // namespace mtag::app
