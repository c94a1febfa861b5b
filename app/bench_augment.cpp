// mtag bench augment: throughput of each augmentation transform on 30 s of audio at 16 kHz and 22.05 kHz,
// one thread, in seconds of audio per CPU second, with the ratio against torchaudio's phase-vocoder time
// stretch and pitch_shift measured in the same run (scripts/bench_torchaudio.py --what time_stretch |
// pitch_shift) at the same n_fft and hop. `--python ''` skips the reference.
#include "app/bench.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/equalizer.hpp"
#include "dsp/noise.hpp"
#include "dsp/phase_vocoder.hpp"
#include "dsp/pitch_shift.hpp"
#include "dsp/random.hpp"
#include "dsp/simple_effects.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <numbers>
#include <optional>
#include <sstream>

namespace mtag::app {

namespace {

// The same kind of signal as scripts/bench_torchaudio.py: two tones plus noise.
std::vector<float> test_signal(int sample_rate, double seconds, std::uint64_t seed) {
    const auto n = static_cast<std::size_t>(seconds * sample_rate);
    std::vector<float> x(n);
    dsp::Rng rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440.0 * t) +
                                  0.2 * std::sin(2 * std::numbers::pi * 97.0 * t) + 0.05 * rng.normal());
    }
    return x;
}

// CPU seconds of the fastest of `repeats` calls of fn, after one warm-up call (FFT plans, allocations). The
// minimum is the figure least disturbed by other processes on a shared machine; the torchaudio script
// measures the same way.
double cpu_per_call(const std::function<void()>& fn, int repeats) {
    fn();
    double best = 1e300;
    for (int r = 0; r < repeats; ++r) {
        const double start = thread_cpu_seconds();
        fn();
        best = std::min(best, thread_cpu_seconds() - start);
    }
    return best;
}

// torchaudio's CPU seconds per call, keyed "time_stretch@1.25" / "pitch_shift@2", at the same n_fft and hop.
std::map<std::string, double> torchaudio_reference(const BenchContext& context, int sample_rate,
                                                   double seconds, int n_fft, int hop,
                                                   const std::vector<double>& rates,
                                                   const std::vector<double>& semitones, int repeats) {
    std::map<std::string, double> result;
    if (context.reference_python.empty()) return result;
    for (const std::string what : {"time_stretch", "pitch_shift"}) {
        const bool stretch = what == "time_stretch";
        nlohmann::json configs = nlohmann::json::array();
        for (double value : stretch ? rates : semitones)
            configs.push_back({{"sample_rate", sample_rate},
                               {"n_fft", n_fft},
                               {"hop_length", hop},
                               {stretch ? "rate" : "n_steps", value}});
        // torchaudio's pitch_shift takes seconds per call at some shifts: one timed call is enough.
        const std::optional<nlohmann::json> reference = run_reference_script(
            context, "bench_torchaudio.py",
            {"--what", what, "--configs", configs.dump(), "--seconds", std::to_string(seconds), "--repeats",
             std::to_string(stretch ? repeats : 1)});
        if (!reference) continue;
        for (const auto& entry : reference->at("results")) {
            std::ostringstream key;
            key << what << "@" << entry.at(stretch ? "rate" : "n_steps").get<double>();
            result[key.str()] = entry.at("cpu_seconds").get<double>();
        }
    }
    return result;
}

// Prints one transform's figures at one sample rate (a table row or a JSON line) beside torchaudio's.
class TransformReport {
  public:
    TransformReport(const BenchContext& context, int sample_rate, double seconds, int n_fft, int hop,
                    const std::map<std::string, double>& reference)
        : m_context(context),
          m_sample_rate(sample_rate),
          m_seconds(seconds),
          m_n_fft(n_fft),
          m_hop(hop),
          m_reference(reference) {}

    // One transform: `cpu` seconds per call; reference_key names torchaudio's figure ("" for none).
    void operator()(const std::string& name, double cpu, const std::string& reference_key) const {
        const double speed = m_seconds / cpu;
        const auto found = m_reference.find(reference_key);
        const double ref_cpu = found == m_reference.end() ? 0.0 : found->second;
        if (m_context.json) {
            nlohmann::ordered_json line = {{"bench", "augment"},
                                           {"sample_rate", m_sample_rate},
                                           {"transform", name},
                                           {"n_fft", m_n_fft},
                                           {"hop", m_hop},
                                           {"cpu_seconds", cpu},
                                           {"audio_seconds_per_cpu_second", speed}};
            if (ref_cpu > 0) {
                line["torchaudio_cpu_seconds"] = ref_cpu;
                line["speedup_vs_torchaudio"] = ref_cpu / cpu;
            }
            std::cout << line.dump() << "\n";
        } else if (ref_cpu > 0) {
            std::printf("%-7d %-34s %10.4f %12.1f %14.4f %9.2fx\n", m_sample_rate, name.c_str(), cpu, speed,
                        ref_cpu, ref_cpu / cpu);
        } else {
            std::printf("%-7d %-34s %10.4f %12.1f %14s %10s\n", m_sample_rate, name.c_str(), cpu, speed, "-",
                        "-");
        }
        std::fflush(stdout);
    }

  private:
    const BenchContext& m_context;
    int m_sample_rate;
    double m_seconds;
    int m_n_fft, m_hop;
    const std::map<std::string, double>& m_reference;
};

// The phase-vocoder transforms: time stretch (identity-locked and plain) and pitch shift (two resamplers).
void bench_stretch_and_shift(const TransformReport& report, const std::vector<float>& x, int sample_rate,
                             const std::vector<double>& rates, const std::vector<double>& semitones,
                             int repeats, std::vector<float>& out) {
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
    // The default resampler quality (fastest: see dsp/pitch_shift.hpp) and medium.
    for (double s : semitones) {
        for (auto quality : {dsp::ResampleQuality::sinc_fastest, dsp::ResampleQuality::sinc_medium}) {
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
}

// The transforms without a torchaudio counterpart: equaliser, peaking filter, coloured noise and gain.
void bench_filters_noise_gain(const TransformReport& report, const std::vector<float>& x, int sample_rate,
                              dsp::Rng& rng, int repeats, std::vector<float>& out) {
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
}

// Every transform and the default pipeline on `seconds` of test signal at one sample rate.
void bench_augment_at(const BenchContext& context, int sample_rate, double seconds, int repeats,
                      const std::vector<double>& rates, const std::vector<double>& semitones) {
    const std::vector<float> x = test_signal(sample_rate, seconds, context.global->seed + 1);
    const int n_fft = dsp::default_stretch_n_fft(sample_rate);
    const int hop = n_fft / 4;
    const auto reference =
        torchaudio_reference(context, sample_rate, seconds, n_fft, hop, rates, semitones, repeats);
    const TransformReport report(context, sample_rate, seconds, n_fft, hop, reference);
    std::vector<float> out;
    bench_stretch_and_shift(report, x, sample_rate, rates, semitones, repeats, out);
    dsp::Rng rng(context.global->seed);
    bench_filters_noise_gain(report, x, sample_rate, rng, repeats, out);
    // The default pipeline, averaged over clips (each transform fires with p = 0.5).
    const dsp::AugmentPipeline pipeline;
    const int clips = context.quick ? 4 : 16;
    std::uint64_t clip = 0;
    const double cpu = cpu_per_call(
                           [&] {
                               for (int c = 0; c < clips; ++c)
                                   out = pipeline.apply(x, sample_rate, context.global->seed, clip++).audio;
                           },
                           1) /
                       clips;
    report("default pipeline (mean of " + std::to_string(clips) + " clips)", cpu, "");
}

}  // namespace

int bench_augment(const BenchContext& context) {
    const double seconds = context.quick ? 5.0 : 30.0;
    const int repeats = context.quick ? 1 : 5;
    const std::vector<double> rates = {0.8, 1.25};
    const std::vector<double> semitones = {2.0, -3.5};
    if (!context.json)
        std::printf(
            "augmentation transforms, %.0f s mono, one thread, fastest of %d calls; speed = audio s per CPU "
            "s\n"
            "%-7s %-34s %10s %12s %14s %10s\n",
            seconds, repeats, "rate", "transform", "CPU s", "speed", "torchaudio s", "ratio");
    for (int sample_rate : {16000, 22050})
        bench_augment_at(context, sample_rate, seconds, repeats, rates, semitones);
    if (!context.json && context.reference_python.empty())
        std::printf("(no torchaudio reference: --python '')\n");
    return 0;
}

}  // namespace mtag::app
