// mtag bench dsp: log-mel and CQT throughput on one thread (audio seconds per CPU second), the
// torchaudio reference measured in the same run, and `extract` with 1 vs 2 jobs on generated files.
#include "app/bench.hpp"
#include "data/extract/extract.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/feature_extractor.hpp"

#include <nlohmann/json.hpp>

#include <time.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>
#include <random>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

// The same kind of signal as scripts/bench_torchaudio.py: two tones plus noise.
std::vector<float> bench_signal(int sample_rate, double seconds, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    std::vector<float> x(static_cast<std::size_t>(sample_rate * seconds));
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440.0 * t) +
                                  0.2 * std::sin(2 * std::numbers::pi * 97.0 * t)) +
               noise(rng);
    }
    return x;
}

// CPU seconds of the fastest of `repeats` calls of the extractor on x, after one warm-up call (plans,
// allocations). The minimum is the figure least disturbed by other processes on a shared machine; the
// torchaudio script measures the same way.
double cpu_seconds_per_call(dsp::FeatureExtractor& extractor, const std::vector<float>& x, int repeats) {
    dsp::FloatMatrix out;
    extractor.compute(x, out);
    double best = 1e300;
    for (int r = 0; r < repeats; ++r) {
        const double start = thread_cpu_seconds();
        extractor.compute(x, out);
        best = std::min(best, thread_cpu_seconds() - start);
    }
    return best;
}

struct MelCase {
    int sample_rate, n_fft, hop_length, n_mels;
};

void print_json(const nlohmann::ordered_json& line) {
    std::cout << line.dump() << "\n";
}

// Log-mel throughput on one thread for each case, against torchaudio MelSpectrogram + AmplitudeToDB.
void bench_logmel(const BenchContext& context, double seconds, int repeats) {
    const std::vector<MelCase> cases = {
        {16000, 512, 256, 96}, {22050, 2048, 512, 128}, {12000, 512, 256, 96}};
    nlohmann::json configs = nlohmann::json::array();
    for (const MelCase& c : cases)
        configs.push_back({{"sample_rate", c.sample_rate},
                           {"n_fft", c.n_fft},
                           {"hop_length", c.hop_length},
                           {"n_mels", c.n_mels}});
    const std::optional<nlohmann::json> reference =
        run_reference_script(context, "bench_torchaudio.py",
                             {"--what", "mel", "--configs", configs.dump(), "--seconds",
                              std::to_string(seconds), "--repeats", std::to_string(repeats)});
    if (!context.json)
        std::printf(
            "log-mel (power mel, Slaney, centred, power_to_db top_db 80), %.0f s input, one thread, fastest "
            "of %d\n"
            "%-34s %14s %14s %8s %8s\n",
            seconds, repeats, "config", "mtag audio s/s", "torchaudio", "ratio", "target");
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const MelCase& c = cases[i];
        dsp::FeatureConfig config;
        config.sample_rate = c.sample_rate;
        config.n_fft = c.n_fft;
        config.hop_length = c.hop_length;
        config.n_mels = c.n_mels;
        dsp::FeatureExtractor extractor(config);
        const std::vector<float> x = bench_signal(c.sample_rate, seconds, context.global->seed);
        const double speed = seconds / cpu_seconds_per_call(extractor, x, repeats);
        double torch_speed = 0;
        if (reference)
            torch_speed = reference->at("results").at(i).at("audio_seconds_per_cpu_second").get<double>();
        char label[64];
        std::snprintf(label, sizeof(label), "%.2f kHz n_fft %d hop %d %d mels", c.sample_rate / 1000.0,
                      c.n_fft, c.hop_length, c.n_mels);
        if (context.json) {
            print_json({{"bench", "dsp"},
                        {"what", "logmel"},
                        {"sample_rate", c.sample_rate},
                        {"n_fft", c.n_fft},
                        {"hop_length", c.hop_length},
                        {"n_mels", c.n_mels},
                        {"audio_seconds_per_cpu_second", speed},
                        {"torchaudio_audio_seconds_per_cpu_second",
                         reference ? nlohmann::ordered_json(torch_speed) : nullptr},
                        {"ratio", reference ? nlohmann::ordered_json(speed / torch_speed) : nullptr},
                        {"target_ratio", 5}});
        } else if (reference) {
            std::printf("%-34s %14.0f %14.0f %7.2fx %8s\n", label, speed, torch_speed, speed / torch_speed,
                        ">= 5x");
        } else {
            std::printf("%-34s %14.0f %14s %8s %8s\n", label, speed, "-", "-", ">= 5x");
        }
    }
}

// CQT throughput (22.05 kHz, hop 512, 84 bins) on one thread.
void bench_cqt(const BenchContext& context, double seconds) {
    dsp::FeatureExtractor extractor(dsp::FeatureConfig::defaults_for(dsp::FeatureKind::cqt));
    const std::vector<float> x = bench_signal(22050, seconds, context.global->seed);
    const double speed = seconds / cpu_seconds_per_call(extractor, x, context.quick ? 1 : 5);
    if (context.json)
        print_json({{"bench", "dsp"},
                    {"what", "cqt"},
                    {"sample_rate", 22050},
                    {"hop_length", 512},
                    {"n_bins", 84},
                    {"audio_seconds_per_cpu_second", speed},
                    {"target", 300}});
    else
        std::printf(
            "\nCQT 22.05 kHz hop 512, 84 bins (12/octave from C1), one thread: %.0fx real time (target "
            ">= 300x)\n",
            speed);
}

// `extract` over generated WAV files with 1 and then 2 jobs: wall and CPU seconds, and the speedup.
void bench_extract_jobs(const BenchContext& context) {
    const int files = context.quick ? 8 : 100;
    const double file_seconds = context.quick ? 10.0 : 30.0;
    const fs::path inputs = context.work_dir / "extract_inputs";
    fs::create_directories(inputs);
    dsp::Audio audio;
    audio.sample_rate = 22050;
    audio.channels = 1;
    for (int f = 0; f < files; ++f) {
        char name[32];
        std::snprintf(name, sizeof(name), "track%03d.wav", f);
        if (fs::exists(inputs / name)) continue;
        audio.samples =
            bench_signal(22050, file_seconds, context.global->seed + static_cast<std::uint64_t>(f));
        dsp::save_audio(inputs / name, audio);
    }
    double wall[2] = {0, 0};
    double cpu[2] = {0, 0};
    for (int jobs : {1, 2}) {
        const double cpu_start = process_cpu_seconds();
        data::ExtractOptions options;
        options.inputs = {inputs.string()};
        options.out_dir = context.work_dir / ("extract_out_" + std::to_string(jobs));
        options.jobs = jobs;
        options.quiet = true;
        options.force = true;
        wall[jobs - 1] = data::run_extract(options).wall_seconds;
        cpu[jobs - 1] = process_cpu_seconds() - cpu_start;
    }
    const double audio_seconds = files * file_seconds;
    if (context.json) {
        print_json({{"bench", "dsp"},
                    {"what", "extract"},
                    {"files", files},
                    {"file_seconds", file_seconds},
                    {"input", "22.05 kHz mono 16-bit WAV -> 16 kHz logmel 96"},
                    {"wall_seconds_jobs1", wall[0]},
                    {"wall_seconds_jobs2", wall[1]},
                    {"cpu_seconds_jobs1", cpu[0]},
                    {"cpu_seconds_jobs2", cpu[1]},
                    {"speedup", wall[0] / wall[1]},
                    {"target_speedup", 1.8}});
    } else {
        std::printf(
            "\nextract %d x %.0f s files (22.05 kHz WAV -> resample -> 16 kHz log-mel 96, .npy out)\n"
            "  --jobs 1: %.2f s wall, %.2f CPU s (%.1f files/s, %.0f audio s/s)\n"
            "  --jobs 2: %.2f s wall, %.2f CPU s (%.1f files/s, %.0f audio s/s)\n"
            "  speedup %.2fx (target >= 1.8x; needs 2 idle cores: CPU s / wall s shows the cores "
            "obtained)\n",
            files, file_seconds, wall[0], cpu[0], files / wall[0], audio_seconds / wall[0], wall[1], cpu[1],
            files / wall[1], audio_seconds / wall[1], wall[0] / wall[1]);
    }
}

}  // namespace

int bench_dsp(const BenchContext& context) {
    const double seconds = 30.0;
    const int repeats = context.quick ? 3 : 20;
    bench_logmel(context, seconds, repeats);
    bench_cqt(context, seconds);
    bench_extract_jobs(context);
    return 0;
}

}  // namespace mtag::app
