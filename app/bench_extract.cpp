// mtag bench extract: `mtag extract` (log-mel .npy per file) over the bench library against torchaudio
// doing the same (scripts/bench_extract_torchaudio.py: soundfile decode, Resample, MelSpectrogram +
// AmplitudeToDB, np.save), at each thread count, with the same front end as bench tag's model
// (short_chunk_cnn's: 16 kHz, n_fft 512, hop 256, 128 HTK mels up to 8 kHz, dB). Both sides are cold
// processes measured from outside (wait4: wall, CPU, peak RSS); each run writes into a fresh folder.
// Then the first file's two matrices are compared (same work), and where mtag's time goes.
#include "app/bench_library.hpp"
#include "app/bench_profile.hpp"

#include "data/tag/tagger.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

// How far apart two [bins, frames] matrices are in dB over their common frames: the median and the largest
// |difference|, and the largest below the top tenth of the bins (where the resamplers' anti-aliasing
// filters, which differ most near Nyquist, shape the spectrum).
struct Difference {
    double median = 0, max = 0, max_lower_bins = 0;
};

std::optional<Difference> difference_of(const fs::path& a_path, const fs::path& b_path) {
    try {
        const dsp::FloatMatrix a = dsp::load_npy(a_path), b = dsp::load_npy(b_path);
        if (a.rows != b.rows || a.rows == 0) return std::nullopt;
        Difference d;
        std::vector<double> all;
        const std::size_t cols = std::min(a.cols, b.cols), lower = a.rows - a.rows / 10;
        for (std::size_t r = 0; r < a.rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) {
                const double v = std::abs(static_cast<double>(a.row(r)[c]) - b.row(r)[c]);
                all.push_back(v);
                d.max = std::max(d.max, v);
                if (r < lower) d.max_lower_bins = std::max(d.max_lower_bins, v);
            }
        if (all.empty()) return std::nullopt;
        std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(all.size() / 2), all.end());
        d.median = all[all.size() / 2];
        return d;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

int bench_extract(const BenchContext& context) {
    const Library library = make_library(library_options(context), context.global->quiet);
    const fs::path model = reference_model(context, library);
    if (std::find(context.extra.begin(), context.extra.end(), "--prepare-only") != context.extra.end()) {
        std::printf("bench %s: library %s (%zu files, %.2f h), model %s\n", "extract", library.dir.string().c_str(),
                    library.files.size(), library.audio_seconds() / 3600.0, model.string().c_str());
        return 0;
    }
    const std::size_t batch_files = batch_files_option(context);
    const std::vector<std::string> files = library_paths(library);
    const std::string exe = self_executable();
    const fs::path work = context.work_dir;
    const fs::path config = work / "extract_config.json";
    {
        std::ofstream out(config);
        out << data::Tagger(model).card().features.to_json().dump(1) << "\n";
    }
    std::string why;
    const std::optional<std::string> python = torch_python(context, why);
    const auto script = find_reference_script("bench_extract_torchaudio.py");
    if (python && !script) why = "scripts/bench_extract_torchaudio.py not found (set MTAG_SOURCE_DIR)";
    const bool reference = python && script;

    print_library(context, "bench extract", library, model, batch_files);
    if (!context.json) std::printf("front end: %s\n", data::Tagger(model).card().features.to_json().dump().c_str());
    print_throughput_header(context);
    std::error_code ec;
    std::optional<Difference> difference;
    for (const int threads : bench_thread_counts(context)) {
        const std::string t = std::to_string(threads);
        const fs::path mtag_out = work / ("extract-mtag-" + t);
        fs::remove_all(mtag_out, ec);
        if (!context.quick) settle_before_measuring();
        ThroughputRow mtag{threads, "mtag extract", files.size(), library.audio_seconds(), {}};
        mtag.cost = run_in_batches({exe, "--threads", t, "--quiet", "extract", "--config", config.string(), "--out",
                                    mtag_out.string()},
                                   files, batch_files, work / ("extract-mtag-" + t), {});
        if (mtag.cost.exit_code != 0)
            throw Error("mtag bench extract", "mtag extract failed (exit " + std::to_string(mtag.cost.exit_code) +
                                                  "; see " + (work / ("extract-mtag-" + t + ".0.err")).string() + ")");
        print_throughput_row(context, "extract", mtag);
        // The same with reduced-rate MP3 synthesis (--mp3-decode fast; the README gives its error).
        const fs::path fast_out = work / ("extract-mtag-fast-" + t);
        fs::remove_all(fast_out, ec);
        if (!context.quick) settle_before_measuring();
        ThroughputRow fast{threads, "mtag extract --mp3-decode fast", files.size(), library.audio_seconds(), {}};
        fast.cost = run_in_batches({exe, "--threads", t, "--quiet", "extract", "--config", config.string(),
                                    "--mp3-decode", "fast", "--out", fast_out.string()},
                                   files, batch_files, work / ("extract-mtag-fast-" + t), {});
        if (fast.cost.exit_code != 0)
            throw Error("mtag bench extract", "mtag extract --mp3-decode fast failed (exit " +
                                                  std::to_string(fast.cost.exit_code) + "; see " +
                                                  (work / ("extract-mtag-fast-" + t + ".0.err")).string() + ")");
        print_throughput_row(context, "extract", fast);
        fs::remove_all(fast_out, ec);
        if (!reference) {
            if (!context.json) std::printf("%-7d %-34s skipped: %s\n", threads, "torchaudio", why.c_str());
            fs::remove_all(mtag_out, ec);
            continue;
        }
        std::optional<ThroughputRow> best;
        for (const char* mode : {"intraop", "files"}) {
            if (threads == 1 && std::string(mode) == "files") continue;  // the same thing on one thread
            const fs::path torch_out = work / ("extract-torch-" + t + "-" + mode);
            fs::remove_all(torch_out, ec);
            if (!context.quick) settle_before_measuring();
            ThroughputRow row{threads, std::string("torchaudio (") + mode + ")", files.size(), library.audio_seconds(), {}};
            row.cost = run_in_batches({*python, script->string(), "--config", config.string(), "--out",
                                       torch_out.string(), "--threads", t, "--mode", mode},
                                      files, batch_files, work / ("extract-torch-" + t + "-" + mode), {});
            if (row.cost.exit_code != 0) {
                if (!context.json)
                    std::printf("%-7d %-34s failed (exit %d; see %s.0.err)\n", threads, row.pipeline.c_str(),
                                row.cost.exit_code, (work / ("extract-torch-" + t + "-" + mode)).string().c_str());
                continue;
            }
            print_throughput_row(context, "extract", row);
            if (!difference) {
                const fs::path first = library.files.front().path;
                difference = difference_of(mtag_out / first.filename().replace_extension(".npy"),
                                            torch_out / (first.filename().string() + ".npy"));
            }
            if (!best || row.cost.wall_seconds < best->cost.wall_seconds) best = row;
            fs::remove_all(torch_out, ec);
        }
        fs::remove_all(mtag_out, ec);
        if (best) {
            print_ratio(context, "extract", mtag, *best);
            print_ratio(context, "extract", fast, *best, "ratio mtag fast / reference");
        }
    }
    if (difference) {
        if (context.json)
            std::cout << nlohmann::json{{"bench", "extract"},
                                        {"first_file_db_difference_median", difference->median},
                                        {"first_file_db_difference_max", difference->max},
                                        {"first_file_db_difference_max_lower_90pc_bins", difference->max_lower_bins}}
                             .dump()
                      << "\n";
        else
            std::printf("same work: the first file's log-mel matrices of mtag and torchaudio differ by %.3f dB (median), "
                        "%.1f dB at most (%.1f dB below the top tenth of the mel bands, where the resamplers' "
                        "anti-aliasing filters differ)\n",
                        difference->median, difference->max, difference->max_lower_bins);
    }
    print_pipeline_profile(context, library, model, ProfileKind::extract);
    return 0;
}

}  // namespace mtag::app
