#include "app/bench_profile.hpp"

#include "data/tag/tagger.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/npy.hpp"
#include "nn/threads.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace mtag::app {

void print_pipeline_profile(const BenchContext& context, const Library& library, const std::filesystem::path& model,
                            ProfileKind kind) {
    nn::set_thread_budget(1);
    const data::Tagger tagger(model);
    const data::RunCard& card = tagger.card();
    auto session = tagger.session();
    data::TagOptions options;
    options.batch_size = 2;  // mtag tag's default
    dsp::FeatureExtractor extractor(card.features);
    dsp::FloatMatrix matrix;
    const std::size_t n = std::min<std::size_t>(4, library.files.size());
    double decode = 0, resample = 0, front_end = 0, network = 0, write = 0, audio = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::filesystem::path& path = library.files[i].path;
        const double c0 = process_cpu_seconds();
        const dsp::Audio native = dsp::load_audio(path, {.sample_rate = 0, .mono = true});
        const double c1 = process_cpu_seconds();
        const dsp::Audio resampled = dsp::load_audio(
            path, {.sample_rate = card.sample_rate, .mono = true, .resample_quality = options.resample_quality});
        const double c2 = process_cpu_seconds();
        decode += c1 - c0;
        resample += std::max(0.0, (c2 - c1) - (c1 - c0));  // the same decode again, plus resampling
        audio += static_cast<double>(native.frames()) / native.sample_rate;
        if (kind == ProfileKind::tag) {
            const data::TagResult r = session->tag_samples(resampled.samples, options);
            front_end += r.feature_seconds;
            network += r.inference_seconds;
        } else {
            const double c3 = process_cpu_seconds();
            extractor.compute(resampled.samples, matrix);
            const double c4 = process_cpu_seconds();
            dsp::save_npy(context.work_dir / "profile.npy", matrix);
            front_end += c4 - c3;
            write += process_cpu_seconds() - c4;
        }
    }
    std::vector<std::pair<std::string, double>> phases = {
        {"decode + mix (libsndfile; MP3 libmpg123)", decode},
        {"resample to " + std::to_string(card.sample_rate) + " Hz (" + dsp::to_string(options.resample_quality) + ")",
         resample}};
    if (kind == ProfileKind::tag) {
        phases.emplace_back("log-mel front end, per window", front_end);
        phases.emplace_back("network (" + card.preset + ", batch 2)", network);
    } else {
        phases.emplace_back("log-mel front end, whole file", front_end);
        phases.emplace_back(".npy write", write);
    }
    double total = 0;
    for (const auto& [name, s] : phases) total += s;
    const double hours = audio / 3600.0;
    if (context.json) {
        nlohmann::json j{{"bench", kind == ProfileKind::tag ? "tag" : "extract"}, {"profile_files", n},
                         {"audio_seconds", audio}, {"threads", 1}};
        nlohmann::json p = nlohmann::json::object();
        for (const auto& [name, s] : phases) p[name] = s / hours;
        j["cpu_seconds_per_audio_hour"] = p;
        std::cout << j.dump() << "\n";
        return;
    }
    std::printf("where mtag's time goes (this process, one thread, %zu files, %.1f min of audio):\n", n, audio / 60.0);
    std::printf("  %-44s %14s %7s\n", "phase", "CPU s/audio h", "share");
    for (const auto& [name, s] : phases)
        std::printf("  %-44s %14.1f %6.1f%%\n", name.c_str(), s / hours, 100.0 * s / total);
    std::printf("  %-44s %14.1f  (%.0f audio h/h on one core without overlap)\n", "total", total / hours,
                hours / (total / 3600.0));
}

}  // namespace mtag::app
