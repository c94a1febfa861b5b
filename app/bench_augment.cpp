// mtag bench augment: throughput of each augmentation transform on 30 s of audio at 16 kHz and 22.05 kHz,
// single thread, in seconds of audio per CPU second, with the ratio against torchaudio's phase-vocoder time
// stretch and pitch_shift measured in the same run (scripts/bench_torchaudio_augment.py) at the same n_fft
// and hop. `--python ''` skips the reference.
#include "app/bench.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/equalizer.hpp"
#include "dsp/error.hpp"
#include "dsp/noise.hpp"
#include "dsp/phase_vocoder.hpp"
#include "dsp/pitch_shift.hpp"
#include "dsp/random.hpp"
#include "dsp/simple_effects.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numbers>
#include <sstream>

namespace mtag::app {

namespace {

// Two tones and a little noise: the same recipe as the Python reference's test signal.
std::vector<float> test_signal(int sample_rate, double seconds, std::uint64_t seed) {
    const auto n = static_cast<std::size_t>(seconds * sample_rate);
    std::vector<float> x(n);
    dsp::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 220.0 * t) +
                                  0.2 * std::sin(2 * std::numbers::pi * 554.37 * t) + 0.05 * rng.normal());
    }
    return x;
}

// CPU seconds per call of fn (after one warm-up call that makes FFT plans).
double cpu_per_call(const std::function<void()>& fn, int repeats) {
    fn();
    const double start = process_cpu_seconds();
    for (int r = 0; r < repeats; ++r) fn();
    return (process_cpu_seconds() - start) / repeats;
}

// The reference script: $MTAG_SCRIPTS_DIR, else scripts/ beside the build folder holding the executable
// (build/mtag -> scripts/), else ./scripts.
std::filesystem::path reference_script(const std::string& name) {
    std::vector<std::filesystem::path> candidates;
    if (const char* dir = std::getenv("MTAG_SCRIPTS_DIR")) candidates.emplace_back(dir);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "scripts");
    candidates.emplace_back("scripts");
    for (const auto& dir : candidates)
        if (std::filesystem::exists(dir / name, ec)) return dir / name;
    return {};
}

// Runs the torchaudio reference; returns what -> cpu seconds ("time_stretch@1.25", "pitch_shift@2").
std::map<std::string, double> torchaudio_reference(const BenchContext& context, int sample_rate,
                                                   double seconds, int n_fft, int hop,
                                                   const std::vector<double>& rates,
                                                   const std::vector<double>& semitones, int repeats) {
    std::map<std::string, double> result;
    if (context.reference_python.empty()) return result;
    const std::filesystem::path script = reference_script("bench_torchaudio_augment.py");
    if (script.empty()) {
        std::cerr
            << "mtag bench augment: scripts/bench_torchaudio_augment.py not found (set MTAG_SCRIPTS_DIR); "
               "no torchaudio reference\n";
        return result;
    }
    std::ostringstream command;
    command << context.reference_python << " '" << script.string() << "' --sample-rate " << sample_rate
            << " --seconds " << seconds << " --n-fft " << n_fft << " --hop " << hop << " --repeats "
            << repeats << " --rates";
    for (double r : rates) command << " " << r;
    command << " --semitones";
    for (double s : semitones) command << " " << s;
    command << " 2>/dev/null";
    FILE* pipe = ::popen(command.str().c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> line{};
    while (std::fgets(line.data(), static_cast<int>(line.size()), pipe) != nullptr) {
        try {
            const auto j = nlohmann::json::parse(line.data());
            const std::string what = j.at("what").get<std::string>();
            const double parameter =
                what == "time_stretch" ? j.at("rate").get<double>() : j.at("semitones").get<double>();
            std::ostringstream key;
            key << what << "@" << parameter;
            result[key.str()] = j.at("cpu_seconds").get<double>();
        } catch (const std::exception&) {
            // Not a result line (a warning): skip.
        }
    }
    ::pclose(pipe);
    return result;
}

}  // namespace

int bench_augment(const BenchContext& context) {
    const double seconds = context.quick ? 5.0 : 30.0;
    const int repeats = context.quick ? 1 : 3;
    const std::vector<double> rates = {0.8, 1.25};
    const std::vector<double> semitones = {2.0, -3.5};
    BenchContext reference_context = context;
    // The interpreter on PATH may lack torch (a virtualenv); Debian's python3-torch lives in
    // /usr/bin/python3.
    if (!context.reference_python.empty() &&
        std::system((context.reference_python + " -c 'import torchaudio' >/dev/null 2>&1").c_str()) != 0)
        reference_context.reference_python = "/usr/bin/python3";
    if (!context.json)
        std::printf(
            "augmentation transforms, %.0f s mono, single thread; speed = audio seconds per CPU second\n"
            "%-7s %-34s %10s %12s %14s %10s\n",
            seconds, "rate", "transform", "CPU s", "speed", "torchaudio s", "ratio");
    for (int sample_rate : {16000, 22050}) {
        const std::vector<float> x = test_signal(sample_rate, seconds, context.global->seed + 1);
        const int n_fft = dsp::default_stretch_n_fft(sample_rate);
        const int hop = n_fft / 4;
        const auto reference = torchaudio_reference(reference_context, sample_rate, seconds, n_fft, hop,
                                                    rates, semitones, repeats);
        auto report = [&](const std::string& name, double cpu, const std::string& reference_key) {
            const double speed = seconds / cpu;
            const auto found = reference.find(reference_key);
            const double ref_cpu = found == reference.end() ? 0.0 : found->second;
            if (context.json) {
                nlohmann::ordered_json line = {{"bench", "augment"},
                                               {"sample_rate", sample_rate},
                                               {"transform", name},
                                               {"n_fft", n_fft},
                                               {"hop", hop},
                                               {"cpu_seconds", cpu},
                                               {"audio_seconds_per_cpu_second", speed}};
                if (ref_cpu > 0) {
                    line["torchaudio_cpu_seconds"] = ref_cpu;
                    line["speedup_vs_torchaudio"] = ref_cpu / cpu;
                }
                std::cout << line.dump() << "\n";
            } else if (ref_cpu > 0) {
                std::printf("%-7d %-34s %10.4f %12.1f %14.4f %9.2fx\n", sample_rate, name.c_str(), cpu, speed,
                            ref_cpu, ref_cpu / cpu);
            } else {
                std::printf("%-7d %-34s %10.4f %12.1f %14s %10s\n", sample_rate, name.c_str(), cpu, speed,
                            "-", "-");
            }
            std::fflush(stdout);
        };
        std::vector<float> out;
        for (double rate : rates) {
            for (auto locking : {dsp::PhaseLocking::identity, dsp::PhaseLocking::none}) {
                dsp::TimeStretcher stretcher({.sample_rate = sample_rate, .phase_locking = locking});
                const double cpu = cpu_per_call([&] { stretcher.process(x, rate, out); }, repeats);
                std::ostringstream name, key;
                name << "time_stretch " << rate
                     << (locking == dsp::PhaseLocking::identity ? " (locked)" : " (plain)");
                key << "time_stretch@" << rate;
                report(name.str(), cpu, key.str());
            }
        }
        // The default resampler quality (medium) and the fastest one (still 97 dB SNR, 80 % bandwidth).
        for (double s : semitones) {
            for (auto quality : {dsp::ResampleQuality::medium, dsp::ResampleQuality::fastest}) {
                dsp::PitchShiftOptions options;
                options.resample_quality = quality;
                const double cpu =
                    cpu_per_call([&] { out = dsp::pitch_shift(x, sample_rate, s, options); }, repeats);
                std::ostringstream name, key;
                name << "pitch_shift " << s << " (" << dsp::to_string(quality) << ")";
                key << "pitch_shift@" << s;
                report(name.str(), cpu, key.str());
            }
        }
        dsp::Rng rng(context.global->seed);
        report("seven_band_eq",
               cpu_per_call(
                   [&] {
                       out = x;
                       const auto bands = dsp::random_seven_band_eq({}, sample_rate, rng);
                       dsp::apply_filters(out, bands, sample_rate);
                   },
                   repeats),
               "");
        report("filter (peaking)",
               cpu_per_call(
                   [&] {
                       out = x;
                       const auto design = dsp::random_filter({}, sample_rate, rng);
                       dsp::apply_filters(out, std::span<const dsp::BiquadDesign>(&design, 1), sample_rate);
                   },
                   repeats),
               "");
        for (auto [name, beta] : {std::pair{"noise white", 0.0}, std::pair{"noise pink", 1.0}}) {
            report(name,
                   cpu_per_call(
                       [&, beta = beta] {
                           out = x;
                           dsp::add_coloured_noise(out, beta, 20.0, rng);
                       },
                       repeats),
                   "");
        }
        report("gain",
               cpu_per_call(
                   [&] {
                       out = x;
                       dsp::apply_gain_db(out, -3.0);
                   },
                   repeats),
               "");
        // The default pipeline, averaged over clips (each transform fires with p = 0.5).
        const dsp::AugmentPipeline pipeline;
        const int clips = context.quick ? 4 : 16;
        std::uint64_t clip = 0;
        const double cpu = cpu_per_call(
                               [&] {
                                   for (int c = 0; c < clips; ++c)
                                       out =
                                           pipeline.apply(x, sample_rate, context.global->seed, clip++).audio;
                               },
                               1) /
                           clips;
        report("default pipeline (mean of " + std::to_string(clips) + " clips)", cpu, "");
    }
    if (!context.json && reference_context.reference_python.empty())
        std::printf("(no torchaudio reference: --python '')\n");
    return 0;
}

}  // namespace mtag::app
