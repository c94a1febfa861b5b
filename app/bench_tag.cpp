// mtag bench tag: `mtag tag` over a generated music library against a PyTorch + torchaudio pipeline doing
// the same work (scripts/bench_tag_torch.py), at each thread count; then an independent minimal PyTorch
// script as a cross-check of the reference (scripts/bench_tag_torch_minimal.py), the two sides' scores on
// the first file (the same work: they differ only by the resampler), and where mtag's time goes.
//
// Both sides run as cold processes (one per --batch-files files, default all of them; the model loaded once
// per process), measured from outside alike: wall time, CPU time and peak RSS of the child from wait4().
// The model is a randomly initialised short_chunk_cnn (`mtag model init`, seeded, 50 placeholder tags) made
// once into the library folder, or --model DIR (a log-mel model directory); throughput does not depend on
// the weights.
#include "app/bench_library.hpp"
#include "app/bench_profile.hpp"

#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

// Each file's scores in mtag tag's JSON lines (--all-scores) and the reference's, by line.
std::vector<std::vector<float>> read_scores(const fs::path& file, const std::vector<std::string>& tags, bool mtag) {
    std::vector<std::vector<float>> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        if (!mtag) {
            out.push_back(j.value("scores", std::vector<float>{}));
            continue;
        }
        std::vector<float> scores(tags.size(), 0.0f);
        for (const nlohmann::json& t : j.value("tags", nlohmann::json::array())) {
            const auto it = std::find(tags.begin(), tags.end(), t.value("tag", std::string()));
            if (it != tags.end()) scores[static_cast<std::size_t>(it - tags.begin())] = t.value("score", 0.0f);
        }
        out.push_back(scores);
    }
    return out;
}

std::vector<std::string> card_tags(const fs::path& model) {
    std::ifstream in(model / "model.json");
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return {};
    return j.value("metadata", nlohmann::json::object()).value("tags", std::vector<std::string>{});
}

}  // namespace

int bench_tag(const BenchContext& context) {
    const Library library = make_library(library_options(context), context.global->quiet);
    const fs::path model = reference_model(context, library);
    if (std::find(context.extra.begin(), context.extra.end(), "--prepare-only") != context.extra.end()) {
        std::printf("bench %s: library %s (%zu files, %.2f h), model %s\n", "tag", library.dir.string().c_str(),
                    library.files.size(), library.audio_seconds() / 3600.0, model.string().c_str());
        return 0;
    }
    const std::size_t batch_files = batch_files_option(context);
    const std::vector<std::string> files = library_paths(library);
    const std::string exe = self_executable();
    const std::string torch_batch = extra_value(context, "--torch-batch").value_or("16");
    std::string why;
    const std::optional<std::string> python = torch_python(context, why);
    const auto script = find_reference_script("bench_tag_torch.py");
    const auto minimal = find_reference_script("bench_tag_torch_minimal.py");
    if (python && !script) why = "scripts/bench_tag_torch.py not found (set MTAG_SOURCE_DIR)";
    const bool reference = python && script;

    print_library(context, "bench tag", library, model, batch_files);
    print_throughput_header(context);
    const fs::path work = context.work_dir;
    fs::path mtag_scores, torch_scores;
    int top_threads = 1;
    for (const int threads : bench_thread_counts(context)) {
        top_threads = threads;
        const std::string t = std::to_string(threads);
        if (!context.quick) settle_before_measuring();
        ThroughputRow mtag{threads, "mtag tag", files.size(), library.audio_seconds(), {}};
        mtag.cost = run_in_batches({exe, "--threads", t, "--quiet", "tag", "--model", model.string(), "--format",
                                    "json", "--all-scores"},
                                   files, batch_files, work / ("tag-mtag-" + t), {});
        mtag_scores = work / ("tag-mtag-" + t + ".0.out");
        if (mtag.cost.exit_code != 0)
            throw Error("mtag bench tag", "mtag tag failed (exit " + std::to_string(mtag.cost.exit_code) + "; see " +
                                              (work / ("tag-mtag-" + t + ".0.err")).string() + ")");
        print_throughput_row(context, "tag", mtag);
        if (!reference) {
            if (!context.json) std::printf("%-7d %-34s skipped: %s\n", threads, "pytorch+torchaudio", why.c_str());
            continue;
        }
        std::optional<ThroughputRow> best;
        for (const char* mode : {"intraop", "files"}) {
            if (threads == 1 && std::string(mode) == "files") continue;  // the same thing on one thread
            if (!context.quick) settle_before_measuring();
            const fs::path stem = work / ("tag-torch-" + t + "-" + mode);
            ThroughputRow row{threads, std::string("pytorch+torchaudio (") + mode + ")", files.size(),
                              library.audio_seconds(), {}};
            row.cost = run_in_batches({*python, script->string(), "--model", model.string(), "--threads", t, "--mode",
                                       mode, "--batch", torch_batch},
                                      files, batch_files, stem, {"--scores", stem.string() + ".{k}.scores"});
            if (row.cost.exit_code != 0) {
                if (!context.json)
                    std::printf("%-7d %-34s failed (exit %d; see %s.0.err)\n", threads, row.pipeline.c_str(),
                                row.cost.exit_code, stem.string().c_str());
                continue;
            }
            print_throughput_row(context, "tag", row);
            if (!best || row.cost.wall_seconds < best->cost.wall_seconds) {
                best = row;
                torch_scores = stem.string() + ".0.scores";
            }
        }
        if (best) print_ratio(context, "tag", mtag, *best);
    }

    if (reference && minimal) {
        if (!context.quick) settle_before_measuring();
        const std::string t = std::to_string(top_threads);
        ThroughputRow row{top_threads, "pytorch minimal script", files.size(), library.audio_seconds(), {}};
        row.cost = run_in_batches({*python, minimal->string(), model.string(), t}, files, batch_files,
                                  work / "tag-torch-minimal", {});
        if (row.cost.exit_code == 0) {
            if (!context.json) std::printf("cross-check of the reference (independent minimal script, scripts/bench_tag_torch_minimal.py):\n");
            print_throughput_row(context, "tag", row);
        }
    }
    if (reference && !torch_scores.empty()) {
        const std::vector<std::string> tags = card_tags(model);
        const auto a = read_scores(mtag_scores, tags, true), b = read_scores(torch_scores, tags, false);
        double worst = 0;
        std::size_t compared = 0;
        for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
            for (std::size_t k = 0; k < std::min(a[i].size(), b[i].size()); ++k, ++compared)
                worst = std::max(worst, std::abs(static_cast<double>(a[i][k]) - b[i][k]));
        if (context.json)
            std::cout << nlohmann::json{{"bench", "tag"}, {"scores_compared", compared}, {"max_abs_score_difference", worst}}.dump() << "\n";
        else
            std::printf("same work: %zu scores of mtag and the reference differ by at most %.2e (their resamplers differ)\n",
                        compared, worst);
    }
    print_pipeline_profile(context, library, model, ProfileKind::tag);
    return 0;
}

}  // namespace mtag::app
