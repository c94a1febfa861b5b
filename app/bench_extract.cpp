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

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace mtag::app {

namespace fs = std::filesystem;

namespace {

// The largest |difference| in dB between two [bins, frames] matrices over their common frames.
std::optional<double> max_difference(const fs::path& a_path, const fs::path& b_path) {
    try {
        const dsp::FloatMatrix a = dsp::load_npy(a_path), b = dsp::load_npy(b_path);
        if (a.rows != b.rows) return std::nullopt;
        double worst = 0;
        const std::size_t cols = std::min(a.cols, b.cols);
        for (std::size_t r = 0; r < a.rows; ++r)
            for (std::size_t c = 0; c < cols; ++c)
                worst = std::max(worst, std::abs(static_cast<double>(a.row(r)[c]) - b.row(r)[c]));
        return worst;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

int bench_extract(const BenchContext& context) {
    const Library library = make_library(library_options(context), context.global->quiet);
    const fs::path model = reference_model(context, library);
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
    std::optional<double> difference;
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
                difference = max_difference(mtag_out / first.filename().replace_extension(".npy"),
                                            torch_out / (first.filename().string() + ".npy"));
            }
            if (!best || row.cost.wall_seconds < best->cost.wall_seconds) best = row;
            fs::remove_all(torch_out, ec);
        }
        fs::remove_all(mtag_out, ec);
        if (best) print_ratio(context, "extract", mtag, *best);
    }
    if (difference) {
        if (context.json)
            std::cout << nlohmann::json{{"bench", "extract"}, {"max_abs_db_difference_first_file", *difference}}.dump() << "\n";
        else
            std::printf("same work: the first file's log-mel matrices of mtag and torchaudio differ by at most %.2f dB "
                        "(their resamplers differ)\n",
                        *difference);
    }
    print_pipeline_profile(context, library, model, ProfileKind::extract);
    return 0;
}

}  // namespace mtag::app
