// mtag bench io: decode + resample throughput, 30 s of 44.1 kHz stereo to 16 kHz mono, per resampler quality
// (both backends), beside the decode-only floor; for MP3 also the reduced-rate synthesis (--mp3-decode fast).
#include "app/bench.hpp"
#include "dsp/audio_io.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <vector>

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
    const int repeats = context.quick ? 1 : 7;
    // The decode-only row (decode + mono mix, no resampling) is the floor every converter adds to.
    struct Row {
        std::optional<dsp::ResampleQuality> quality;
        dsp::Mp3Decode mp3 = dsp::Mp3Decode::full;
    };
    std::vector<Row> rows = {{std::nullopt}};
    for (auto quality : {dsp::ResampleQuality::soxr_vhq, dsp::ResampleQuality::soxr_hq, dsp::ResampleQuality::soxr_mq,
                         dsp::ResampleQuality::soxr_lq, dsp::ResampleQuality::soxr_qq, dsp::ResampleQuality::sinc_best,
                         dsp::ResampleQuality::sinc_medium, dsp::ResampleQuality::sinc_fastest})
        rows.push_back({quality});
    // MP3 only: half-rate synthesis (22.05 kHz) before the converter.
    const std::vector<Row> mp3_rows = {{dsp::ResampleQuality::soxr_vhq, dsp::Mp3Decode::fast},
                                       {dsp::ResampleQuality::soxr_hq, dsp::Mp3Decode::fast}};
    if (!context.json)
        std::printf("decode + resample, %.0f s of 44.1 kHz stereo -> 16 kHz mono, single thread, best and median of %d\n"
                    "%-6s %-16s %14s %18s %18s\n",
                    seconds, repeats, "format", "quality", "CPU s / file", "audio s/CPU s best", "audio s/CPU s median");
    for (const char* ext : {".wav", ".flac", ".mp3"}) {
        const auto path = context.work_dir / (std::string("bench_io") + ext);
        dsp::save_audio(path, audio);
        std::vector<Row> format_rows = rows;
        if (std::string(ext) == ".mp3") format_rows.insert(format_rows.end(), mp3_rows.begin(), mp3_rows.end());
        for (const auto& [quality, mp3] : format_rows) {
            dsp::LoadOptions options{.sample_rate = quality ? 16000 : 0, .mono = true, .mp3_decode = mp3};
            if (quality) options.resample_quality = *quality;
            const std::string name = (quality ? dsp::to_string(*quality) : "decode only") +
                                     (mp3 == dsp::Mp3Decode::fast ? " fast" : "");
            std::vector<double> cpu;
            std::size_t frames = 0;
            for (int r = 0; r < repeats; ++r) {
                const double start = process_cpu_seconds();
                frames = dsp::load_audio(path, options).frames();
                cpu.push_back(process_cpu_seconds() - start);
            }
            std::sort(cpu.begin(), cpu.end());
            const double best = cpu.front(), median = cpu[cpu.size() / 2];
            if (context.json) {
                std::cout << nlohmann::json{{"bench", "io"},
                                            {"format", ext + 1},
                                            {"quality", quality ? dsp::to_string(*quality) : "decode only"},
                                            {"mp3_decode", dsp::to_string(mp3)},
                                            {"cpu_seconds", best},
                                            {"cpu_seconds_median", median},
                                            {"audio_seconds_per_cpu_second", seconds / best},
                                            {"audio_seconds_per_cpu_second_median", seconds / median},
                                            {"frames_out", frames}}
                                 .dump()
                          << "\n";
            } else {
                std::printf("%-6s %-16s %14.4f %18.1f %18.1f\n", ext + 1, name.c_str(), best, seconds / best,
                            seconds / median);
            }
        }
    }
    return 0;
}

}  // namespace mtag::app
