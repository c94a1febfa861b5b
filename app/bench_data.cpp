// mtag bench data: clips per second through the batch loader (decode -> crop -> augment -> log-mel),
// with and without waveform augmentation, through the waveform cache (decoded clips in memory: crop ->
// [augment ->] log-mel) and through the feature cache, on a generated corpus (or a
// manifest given as argument, e.g. the `mtag synth` demo corpus), against a torchaudio DataLoader doing
// decode -> resample -> crop -> log-mel on the same files (scripts/bench_data.py, same run).
#include "app/bench.hpp"
#include "data/pipeline/batch_loader.hpp"
#include "data/pipeline/clip_pipeline.hpp"
#include "data/sets/manifest.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <numbers>
#include <random>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

// A corpus of `clips` clips of `seconds` s at 22.05 kHz: a few harmonic notes with decays plus noise.
fs::path make_corpus(const fs::path& dir, int clips, double seconds, std::uint64_t seed) {
    fs::create_directories(dir / "audio");
    std::vector<data::ManifestRow> rows;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<float> noise(0.0f, 0.01f);
    const int sr = 22050;
    for (int c = 0; c < clips; ++c) {
        dsp::Audio audio;
        audio.sample_rate = sr;
        audio.channels = 1;
        audio.samples.assign(static_cast<std::size_t>(seconds * sr), 0.0f);
        const double tempo = 0.25 + 0.5 * uniform(rng);  // seconds per note
        for (double start = 0; start < seconds; start += tempo) {
            const double f0 = 110.0 * std::pow(2.0, std::floor(uniform(rng) * 36) / 12.0);
            const auto begin = static_cast<std::size_t>(start * sr);
            for (std::size_t i = begin;
                 i < audio.samples.size() && i < begin + static_cast<std::size_t>(2 * tempo * sr); ++i) {
                const double t = static_cast<double>(i - begin) / sr;
                double v = 0;
                for (int h = 1; h <= 4; ++h) v += std::sin(2 * std::numbers::pi * f0 * h * t) / h;
                audio.samples[i] += static_cast<float>(0.15 * v * std::exp(-3.0 * t / tempo));
            }
        }
        for (float& s : audio.samples) s = std::clamp(s + noise(rng), -1.0f, 1.0f);
        const fs::path path = dir / "audio" / ("clip" + std::to_string(c) + ".wav");
        dsp::save_audio(path, audio);
        rows.push_back({path, {c % 2 ? "odd" : "even"}, "train", seconds});
    }
    data::write_manifest(dir / "manifest.csv", rows);
    return dir / "manifest.csv";
}

struct Figure {
    std::string mode;
    int workers = 0;
    std::size_t clips = 0;
    double wall = 0.0;
    double cpu = 0.0;
    double wait = 0.0;  // consumer blocked in next()
};

Figure run_loader(const std::string& mode, const data::Dataset& dataset, const data::SampleFn& fn,
                  int workers, int epochs, std::uint64_t seed) {
    data::BatchLoader loader(dataset, dataset.indices(data::Split::train), fn,
                             {.batch_size = 16, .workers = workers, .prefetch = 4, .seed = seed});
    Figure figure{mode, workers};
    const double wall0 = wall_seconds(), cpu0 = process_cpu_seconds();
    for (int e = 0; e < epochs; ++e) {
        loader.start_epoch(static_cast<std::uint64_t>(e));
        while (auto batch = loader.next()) figure.clips += batch->size();
    }
    figure.wall = wall_seconds() - wall0;
    figure.cpu = process_cpu_seconds() - cpu0;
    figure.wait = loader.wait_seconds();
    return figure;
}

// Runs scripts/bench_data.py; returns {"workers": clips_per_second} or an empty object.
nlohmann::json run_reference(const BenchContext& context, const fs::path& manifest, int workers, int frames,
                             int epochs) {
    if (context.reference_python.empty()) return {};
    // The script sits in scripts/ of the checkout, next to build/ where the executable lives.
    std::error_code ec;
    fs::path script =
        fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "scripts" / "bench_data.py";
    if (ec || !fs::exists(script)) script = fs::path("scripts") / "bench_data.py";
    if (!fs::exists(script)) return {};
    const std::string command = context.reference_python + " " + script.string() + " --manifest " +
                                manifest.string() + " --workers " + std::to_string(workers) + " --frames " +
                                std::to_string(frames) + " --epochs " + std::to_string(epochs) +
                                " 2>/dev/null";
    auto run = [](const std::string& cmd, std::string& out) {
        std::FILE* pipe = ::popen(cmd.c_str(), "r");
        if (!pipe) return false;
        char buffer[512];
        while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
        return ::pclose(pipe) == 0;
    };
    std::string out;
    if (!run(command, out)) {
        // A python3 first on PATH (pyenv, venv) may lack Debian's python3-torch; try the system one.
        out.clear();
        if (context.reference_python != "python3" ||
            !run("/usr/bin/python3" + command.substr(context.reference_python.size()), out))
            return {};
    }
    try {
        return nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
        return {};
    }
}

// The manifest to read: the argument (a file, or a folder with manifest.csv), else a generated corpus.
fs::path bench_manifest(const BenchContext& context, int clips, std::uint64_t seed) {
    fs::path manifest;
    if (!context.extra.empty()) {
        manifest = context.extra.front();
        if (fs::is_directory(manifest)) manifest /= "manifest.csv";
    } else {
        manifest = make_corpus(context.work_dir / "bench_data", clips, 10.0, seed);
    }
    return manifest;
}

// The loader's sample functions, one per measured mode, all cropping `frames` frames of the same front end.
struct LoaderModes {
    data::SampleFn plain, plain_fastest, augmented, wave_plain, wave_augmented, cached;
};

// Builds every mode's sample function over the given augmentation pipeline, feature cache and waveform cache.
LoaderModes make_loader_modes(const dsp::FeatureConfig& config, std::size_t frames,
                              const data::FrontEnd& front_end, const dsp::AugmentPipeline& augment,
                              data::FeatureCache& cache, data::WaveformCache& waveforms) {
    return {
        .plain = data::make_clip_sample_fn({.features = config, .chunking = {.length = frames}}, front_end),
        .plain_fastest = data::make_clip_sample_fn({.features = config,
                                                    .chunking = {.length = frames},
                                                    .resample_quality = dsp::ResampleQuality::sinc_fastest},
                                                   front_end),
        .augmented = data::make_clip_sample_fn(
            {.features = config, .chunking = {.length = frames}, .augment = &augment}, front_end),
        .wave_plain = data::make_clip_sample_fn(
            {.features = config, .chunking = {.length = frames}, .waveforms = &waveforms}, front_end),
        .wave_augmented = data::make_clip_sample_fn({.features = config,
                                                     .chunking = {.length = frames},
                                                     .augment = &augment,
                                                     .waveforms = &waveforms},
                                                    front_end),
        .cached = data::make_clip_sample_fn(
            {.features = config, .chunking = {.length = frames}, .cache = &cache}, front_end)};
}

// Runs the loader in every mode with each worker count; one figure per run, in the order they are printed.
std::vector<Figure> run_loader_modes(const data::Dataset& dataset, const LoaderModes& modes,
                                     const std::vector<int>& worker_counts, int epochs, std::uint64_t seed) {
    std::vector<Figure> figures;
    for (int workers : worker_counts) {
        figures.push_back(run_loader("decode+logmel", dataset, modes.plain, workers, epochs, seed));
        figures.push_back(run_loader("decode+logmel, fastest resampler", dataset, modes.plain_fastest,
                                     workers, epochs, seed));
        figures.push_back(
            run_loader("decode+augment+logmel", dataset, modes.augmented, workers, epochs, seed));
    }
    // The waveform cache: the first epoch decodes every clip (as the trainer's normalisation pass does),
    // later epochs only crop, augment and compute the front end.
    figures.push_back(run_loader("wave cache cold (decode+keep+logmel)", dataset, modes.wave_plain,
                                 worker_counts.back(), 1, seed));
    for (int workers : worker_counts) {
        figures.push_back(
            run_loader("wave cache warm (crop+logmel)", dataset, modes.wave_plain, workers, epochs, seed));
        figures.push_back(run_loader("wave cache warm (crop+augment+logmel)", dataset, modes.wave_augmented,
                                     workers, epochs, seed));
    }
    // The feature cache: the first epoch computes and writes every clip's features, later ones map them.
    figures.push_back(
        run_loader("cache cold (decode+logmel+write)", dataset, modes.cached, worker_counts.back(), 1, seed));
    for (int workers : worker_counts)
        figures.push_back(
            run_loader("cache warm (mmap+crop)", dataset, modes.cached, workers, std::max(epochs, 3), seed));
    return figures;
}

// Prints the loader figures: a table under a header line, or one JSON line each.
void print_loader_figures(const BenchContext& context, const data::Dataset& dataset, const fs::path& manifest,
                          std::size_t frames, const std::vector<Figure>& figures) {
    double seconds_per_clip = 0;
    for (const data::Clip& c : dataset.clips) seconds_per_clip += c.duration_seconds.value_or(0.0);
    seconds_per_clip /= static_cast<double>(dataset.clips.size());
    if (!context.json)
        std::printf(
            "batch loader: %zu clips of %.1f s (%s), crops of %zu frames (3 s) at 16 kHz, 96-band log-mel, "
            "batch 16\n"
            "%-40s %7s %10s %12s %8s %12s\n",
            dataset.clips.size(), seconds_per_clip, manifest.string().c_str(), frames, "mode", "workers",
            "clips/s", "CPU s/clip", "CPU %", "loader wait");
    for (const Figure& f : figures) {
        const double rate = static_cast<double>(f.clips) / f.wall;
        if (context.json) {
            std::cout << nlohmann::json{{"bench", "data"},
                                        {"mode", f.mode},
                                        {"workers", f.workers},
                                        {"clips", f.clips},
                                        {"clips_per_second", rate},
                                        {"cpu_seconds_per_clip", f.cpu / static_cast<double>(f.clips)},
                                        {"consumer_wait_fraction", f.wait / f.wall}}
                             .dump()
                      << "\n";
        } else {
            std::printf("%-40s %7d %10.1f %12.4f %7.0f%% %11.0f%%\n", f.mode.c_str(), f.workers, rate,
                        f.cpu / static_cast<double>(f.clips), 100.0 * f.cpu / f.wall,
                        100.0 * f.wait / f.wall);
        }
    }
}

// Runs the torchaudio DataLoader reference per worker count and prints it beside mtag's figures.
void compare_with_torchaudio(const BenchContext& context, const fs::path& manifest,
                             const std::vector<int>& worker_counts, std::size_t frames, int epochs,
                             const std::vector<Figure>& figures) {
    // Reference: torchaudio decode + resample + crop + MelSpectrogram + AmplitudeToDB in a DataLoader.
    for (int workers : worker_counts) {
        const nlohmann::json ref =
            run_reference(context, manifest, workers, static_cast<int>(frames), epochs);
        if (ref.empty() || !ref.contains("clips_per_second")) {
            if (!context.json)
                std::printf("(torchaudio reference unavailable: %s scripts/bench_data.py)\n",
                            context.reference_python.c_str());
            break;
        }
        const double ref_rate = ref["clips_per_second"].get<double>();
        const double ref_cpu = ref.value("cpu_seconds_per_clip", 0.0);
        double ours = 0, ours_cpu = 0, fastest_cpu = 0, augmented_cached = 0;
        for (const Figure& f : figures) {
            if (f.workers != workers) continue;
            if (f.mode == "wave cache warm (crop+augment+logmel)")
                augmented_cached = static_cast<double>(f.clips) / f.wall;
            if (f.mode == "decode+logmel") {
                ours = static_cast<double>(f.clips) / f.wall;
                ours_cpu = f.cpu / static_cast<double>(f.clips);
            } else if (f.mode == "decode+logmel, fastest resampler") {
                fastest_cpu = f.cpu / static_cast<double>(f.clips);
            }
        }
        if (context.json) {
            std::cout << nlohmann::json{{"bench", "data"},
                                        {"mode", "torchaudio decode+resample+logmel"},
                                        {"workers", workers},
                                        {"clips_per_second", ref_rate},
                                        {"cpu_seconds_per_clip", ref_cpu},
                                        {"mtag_speedup_wall", ours / ref_rate},
                                        {"mtag_speedup_cpu", ref_cpu / ours_cpu},
                                        {"mtag_fastest_resampler_speedup_cpu", ref_cpu / fastest_cpu},
                                        {"mtag_wave_cache_augmented_speedup_wall",
                                         augmented_cached / ref_rate}}
                             .dump()
                      << "\n";
        } else {
            std::printf(
                "%-40s %7d %10.1f %12.4f   CPU per clip: torchaudio / mtag = %.2f (medium resampler), "
                "%.2f (fastest); clips/s mtag / torchaudio = %.2f (decode+logmel), %.2f (wave cache warm "
                "with "
                "augmentation)\n",
                "torchaudio DataLoader reference", workers, ref_rate, ref_cpu, ref_cpu / ours_cpu,
                ref_cpu / fastest_cpu, ours / ref_rate, augmented_cached / ref_rate);
        }
    }
}

}  // namespace

int bench_data(const BenchContext& context) {
    const std::uint64_t seed = context.global->seed;
    const int clips = context.quick ? 32 : 96;
    const fs::path manifest = bench_manifest(context, clips, seed);
    data::Dataset dataset =
        data::load_manifest(manifest, {.seed = seed, .read_durations = true, .threads = 2});
    for (data::Clip& clip : dataset.clips) clip.split = data::Split::train;  // every clip feeds the loader
    const dsp::FeatureConfig config;  // 16 kHz, n_fft 512, hop 256, 96 Slaney mels, power_to_db
    const std::size_t frames = 188;   // 3 s, a typical model input
    const data::FrontEnd front_end = data::make_front_end(config);
    const dsp::AugmentPipeline augment;  // the default pipeline: pitch, stretch, noise, EQ, gain at p = 0.5
    data::FeatureCache cache(context.work_dir / "bench_data_cache", config);
    data::WaveformCache waveforms({.sample_rate = config.sample_rate});
    const int epochs = context.quick ? 1 : 2;
    const LoaderModes modes = make_loader_modes(config, frames, front_end, augment, cache, waveforms);

    std::vector<int> worker_counts = {1};
    if (context.global->resolved_threads() > 1) worker_counts.push_back(context.global->resolved_threads());
    const std::vector<Figure> figures = run_loader_modes(dataset, modes, worker_counts, epochs, seed);
    print_loader_figures(context, dataset, manifest, frames, figures);
    compare_with_torchaudio(context, manifest, worker_counts, frames, epochs, figures);
    return 0;
}

}  // namespace mtag::app
