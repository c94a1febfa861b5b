// mtag tag: a trained run applied to audio files; one result per file on stdout, in input order.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/resample_flag.hpp"
#include "app/dataset_flags.hpp"
#include "data/progress/progress.hpp"
#include "data/pretrained/model_zoo.hpp"
#include "data/extract/extract.hpp"
#include "data/run/output_lock.hpp"
#include "data/sets/source.hpp"
#include "data/tag/ensemble.hpp"
#include "data/tag/tagger.hpp"
#include "dsp/error.hpp"
#include "dsp/npy.hpp"
#include "nn/profile.hpp"
#include "nn/threads.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>
#include <thread>

#include "mtag_version.hpp"

namespace mtag::app {

namespace {

struct TagCommandOptions {
    std::vector<std::string> models;
    std::vector<std::string> inputs;
    DatasetFlags dataset;        // --data: tag a dataset split instead of inputs
    std::string split = "test";
    std::string format = "json";
    std::size_t top_k = 5;
    double threshold = 0.0;
    bool all_scores = false;
    std::string embeddings_dir;
    std::string taggram_dir;
    std::string chunks = "auto";
    std::string resample_quality = dsp::to_string(dsp::default_resample_quality);
    std::string mp3_decode = dsp::to_string(dsp::default_mp3_decode);
    // Small batches: the same GEMM work per chunk (conv maps are wide already), a quarter of the activation
    // memory of 8 and fewer fresh pages to fault in (measured: a cold 30 s file spends ~0.15 s less in the kernel).
    std::size_t batch_size = 2;
    int jobs = 0;
    bool timing = false;
};

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Tags to report for one file: every tag with --all-scores, else the top k above the threshold;
// best first, ties in vocabulary order.
std::vector<std::size_t> reported_tags(const std::vector<float>& scores, const TagCommandOptions& o) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    if (o.all_scores) return order;
    std::vector<std::size_t> out;
    for (std::size_t i : order) {
        if (out.size() >= o.top_k) break;
        if (scores[i] >= o.threshold) out.push_back(i);
    }
    return out;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string format_result(const std::string& path, const data::TagResult& r, const std::vector<std::string>& tags,
                          const TagCommandOptions& o) {
    const std::vector<std::size_t> shown = reported_tags(r.scores, o);
    std::ostringstream out;
    if (o.format == "json") {
        nlohmann::ordered_json j;
        j["path"] = path;
        j["duration_seconds"] = r.duration_seconds;
        j["chunks"] = r.chunks;
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (std::size_t i : shown) list.push_back({{"tag", tags[i]}, {"score", r.scores[i]}});
        j["tags"] = list;
        out << j.dump() << "\n";
    } else if (o.format == "csv") {
        for (std::size_t i : shown)
            out << csv_field(path) << "," << r.duration_seconds << "," << csv_field(tags[i]) << "," << r.scores[i] << "\n";
    } else {
        out << path << "  (" << std::fixed << std::setprecision(1) << r.duration_seconds << " s)\n";
        for (std::size_t i : shown)
            out << "    " << std::left << std::setw(24) << tags[i] << std::right << std::setprecision(3) << r.scores[i] << "\n";
    }
    return out.str();
}

void add_tag_options(CLI::App* cmd, TagCommandOptions& o) {
    cmd->add_option("--model", o.models,
                    "Run directory (model.json + model.safetensors), ensemble directory (mtag model ensemble) or "
                    "pretrained model name (mtag model list); repeat for an ensemble (probabilities averaged, each "
                    "model with its own front end; embeddings concatenated)")
        ->required()
        ->allow_extra_args(false);  // one value per --model: `--model RUN song.mp3` leaves song.mp3 an input
    cmd->add_option("inputs", o.inputs, "Audio files and folders (searched recursively by audio extension); '-' reads standard input, and pipes "
                    "such as <(ffmpeg ...) work too (copied to a temporary file first)");
    cmd->add_option("--data", o.dataset.data,
                    "Tag the clips of a dataset split instead of inputs (annotation file or folder; options below)");
    cmd->add_option("--split", o.split, "With --data: train | valid | test | all")->capture_default_str();
    add_dataset_flags(cmd, o.dataset, "--data-format");
    cmd->add_option("--format", o.format, "json (one line per file) | csv (path,duration_seconds,tag,score) | table")
        ->check(CLI::IsMember({"json", "csv", "table"}))
        ->capture_default_str();
    cmd->add_option("--top-k", o.top_k, "Tags reported per file")->check(non_negative)->capture_default_str();
    cmd->add_option("--threshold", o.threshold, "Report only tags scoring at least this")
        ->check(finite)
        ->capture_default_str();
    cmd->add_flag("--all-scores", o.all_scores, "Report every tag's score (ignores --top-k and --threshold)");
    cmd->add_option("--embeddings", o.embeddings_dir, "Write each file's embedding (mean over chunks) as DIR/<name>.npy");
    cmd->add_option("--taggram", o.taggram_dir, "Write each file's chunk-by-chunk scores [chunks, tags] as DIR/<name>.npy");
    cmd->add_option("--chunks", o.chunks,
                    "all (every non-overlapping chunk) | card (the run's evaluation chunks) | auto (card for "
                    "fixed-input models such as Choi et al.'s, which score the centre 29.12 s, else all)")
        ->check(CLI::IsMember({"auto", "all", "card"}))
        ->capture_default_str();
    add_resample_quality_flag(cmd, o.resample_quality, "Resampler from the file's rate to the model's");
    add_mp3_decode_flag(cmd, o.mp3_decode);
    cmd->add_option("--batch-size", o.batch_size, "Chunks per forward pass")->check(positive)->capture_default_str();
    cmd->add_option("--jobs,-j", o.jobs,
                    "Files in parallel (default: --threads); with fewer files than threads, each file's chunks "
                    "are spread over the remaining threads (same result as one thread)")->check(non_negative);
    cmd->add_flag("--timing", o.timing, "Print a per-phase timing breakdown on stderr (also MTAG_TIMING=1)");
    cmd->footer("With --data, the dataset options not given are the run's (as in mtag eval), and embeddings and taggrams "
                "are named after the clips' annotation paths.\n"
                "Exit code 3 when some files could not be tagged (each is reported on stderr; the others are printed).");

}

// Whether `--timing` or MTAG_TIMING asks for the timing breakdown.
bool timing_requested(const TagCommandOptions& o) {
    const char* env = std::getenv("MTAG_TIMING");
    return o.timing || (env && *env && std::string(env) != "0");
}

// The tagger's options of each model from the command line and the models' cards.
std::vector<data::TagOptions> tag_options_for(const TagCommandOptions& o, const data::Ensemble& models) {
    if (models.embedding_only() && o.embeddings_dir.empty())
        throw UsageError("--model: a feature extractor without a trained head is among the models: give --embeddings DIR");
    data::TagOptions t;
    t.layout = o.chunks == "card" ? data::ChunkLayout::card : data::ChunkLayout::all;
    t.batch_size = o.batch_size;
    t.resample_quality = dsp::parse_resample_quality(o.resample_quality);
    t.mp3_decode = dsp::parse_mp3_decode(o.mp3_decode);
    t.embedding = !o.embeddings_dir.empty();
    t.taggram = !o.taggram_dir.empty();
    return models.member_options(t, o.chunks == "auto");
}

// The models of --model (pretrained names fetched into the cache on first use), loaded as one ensemble.
data::Ensemble load_models(const std::vector<std::string>& names, bool quiet) {
    std::vector<std::filesystem::path> dirs;
    for (const std::string& m : names) dirs.push_back(data::resolve_model(m, mtag::version, quiet));
    return data::Ensemble(dirs, names);
}

// Seconds spent per phase, summed over the workers.
struct PhaseTimes {
    std::atomic<double> decode{0}, features{0}, inference{0};
};

void print_timing(double t_start, double t_loaded, double t_sessions, std::size_t files, int workers, int per_file,
                  const PhaseTimes& p) {
    const double t_end = now_seconds();
    std::fprintf(stderr,
                 "mtag tag timing: model load %.1f ms, sessions %.1f ms, tagging %.1f ms wall for %zu file(s) "
                 "with %d file worker(s) x %d session(s) [summed over sessions: decode+resample wait %.1f ms, "
                 "features %.1f ms, inference %.1f ms]\n",
                 1e3 * (t_loaded - t_start), 1e3 * (t_sessions - t_loaded), 1e3 * (t_end - t_sessions), files, workers,
                 per_file, 1e3 * p.decode.load(), 1e3 * p.features.load(), 1e3 * p.inference.load());
    if (workers * per_file == 1) {
        std::fprintf(stderr, "mtag tag timing: inference by layer type:");
        for (const nn::LayerTime& t : nn::layer_profile())
            std::fprintf(stderr, " %s %.1f ms;", t.type.c_str(), 1e3 * t.forward_seconds);
        std::fprintf(stderr, "\n");
    }
}

// Tags every item on `workers` threads (one ensemble session each, whose `per_file` sessions per member share
// each file's windows: data/tag/parallel_tag); results print in input order as soon as every earlier file is
// done. Returns the number of files that failed (each reported on stderr).
std::size_t tag_items(const TagCommandOptions& o, const data::Ensemble& tagger,
                      const std::vector<data::TagOptions>& tag_options, const std::vector<data::ExtractItem>& items,
                      std::vector<std::unique_ptr<data::EnsembleSession>>& sessions, PhaseTimes& times, bool quiet) {
    std::vector<std::optional<std::string>> outputs(items.size());
    std::size_t printed = 0;
    std::mutex mutex;
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failed{0};
    const std::size_t n_tags = tagger.n_tags();
    // Files done / total, files/s and ETA on stderr; stdout (the results) is the same with or without it.
    data::Progress progress("tag", items.size(), !quiet, 5.0, "files");
    auto save = [](const std::filesystem::path& file, const std::vector<float>& values, std::span<const std::size_t> shape) {
        std::filesystem::create_directories(file.parent_path());
        dsp::save_npy(file, values, shape);
    };
    auto work = [&](data::EnsembleSession* session) {
        for (std::size_t i = next++; i < items.size(); i = next++) {
            const std::string path = items[i].shown();
            std::string text;
            try {
                const data::TagResult r = session->tag_file(items[i].input, tag_options);
                times.decode.fetch_add(r.decode_seconds);
                times.features.fetch_add(r.feature_seconds);
                times.inference.fetch_add(r.inference_seconds);
                if (!o.embeddings_dir.empty()) {
                    const std::size_t shape[] = {r.embedding.size()};
                    save(std::filesystem::path(o.embeddings_dir) / items[i].relative, r.embedding, shape);
                }
                if (!o.taggram_dir.empty()) {
                    const std::size_t shape[] = {r.chunks, n_tags};
                    save(std::filesystem::path(o.taggram_dir) / items[i].relative, r.taggram, shape);
                }
                text = format_result(path, r, tagger.card().tags, o);
            } catch (const std::exception& e) {
                ++failed;
                progress.message("mtag tag: skipped " + path + ": " + e.what());
            }
            std::lock_guard lock(mutex);
            outputs[i] = std::move(text);
            while (printed < outputs.size() && outputs[printed]) {
                std::cout << *outputs[printed];
                outputs[printed] = std::string();  // done; the text is not kept
                ++printed;
            }
            std::cout.flush();
            progress.advance();
        }
    };
    std::vector<std::thread> pool;
    for (std::size_t w = 1; w < sessions.size(); ++w) pool.emplace_back(work, sessions[w].get());
    work(sessions[0].get());
    for (std::thread& t : pool) t.join();
    progress.finish();
    return failed;
}

// The files to tag: the inputs, or the clips of one split (or all) of --data in dataset order.
std::vector<data::ExtractItem> tag_inputs(const TagCommandOptions& o, const data::Ensemble& tagger,
                                          const GlobalOptions& global) {
    if (o.dataset.data.empty()) {
        if (o.inputs.empty()) throw UsageError("mtag tag: give audio files or folders, or --data DATASET");
        if (o.dataset.format || o.dataset.any_split_option() || o.dataset.audio_root || o.dataset.duration_cache)
            throw UsageError("mtag tag: the dataset options (--data-format, --split-file, --top-n, ...) need --data");
        data::ExtractOptions collect;
        collect.inputs = o.inputs;
        return data::collect_extract_items(collect);
    }
    if (!o.inputs.empty()) throw UsageError("mtag tag: give either audio inputs or --data, not both");
    std::optional<data::Split> split;
    if (o.split != "all") {
        split = data::parse_split(o.split);
        if (!split) throw UsageError("--split '" + o.split + "' is not train, valid, test or all");
    }
    data::DatasetOptions base;
    base.seed = global.seed;
    base.threads = global.resolved_threads();
    const data::Dataset dataset =
        data::load_dataset(dataset_for_run(o.dataset, tagger.run_dir(), "tag", global.quiet), base);
    std::vector<data::ExtractItem> items;
    for (const data::Clip& clip : dataset.clips) {
        if (split && clip.split != *split) continue;
        std::filesystem::path relative = std::filesystem::path(clip.relative_path.empty() ? clip.id : clip.relative_path);
        relative.replace_extension(".npy");
        items.push_back({clip.audio_path, relative.relative_path(), nullptr});
    }
    if (items.empty()) throw Error("mtag tag --data '" + o.dataset.data + "'", "the " + o.split + " split has no clips");
    return items;
}

// Locks the folders `tag` writes .npy files into (--embeddings, --taggram; once when they are the same).
std::vector<data::OutputLock> lock_outputs(const TagCommandOptions& o) {
    std::vector<data::OutputLock> locks;
    if (!o.embeddings_dir.empty())
        locks.push_back(data::OutputLock::in_directory(o.embeddings_dir, "--embeddings " + o.embeddings_dir, "mtag tag"));
    std::error_code ec;
    if (!o.taggram_dir.empty() &&
        (o.embeddings_dir.empty() ||
         std::filesystem::weakly_canonical(o.taggram_dir, ec) != std::filesystem::weakly_canonical(o.embeddings_dir, ec)))
        locks.push_back(data::OutputLock::in_directory(o.taggram_dir, "--taggram " + o.taggram_dir, "mtag tag"));
    return locks;
}

int run_tag(const TagCommandOptions& o, const GlobalOptions& global) {
    const double t_start = now_seconds();
    const bool timing = timing_requested(o);
    const std::vector<data::OutputLock> locks = lock_outputs(o);
    const data::Ensemble tagger = load_models(o.models, global.quiet);
    const double t_loaded = now_seconds();
    const std::vector<data::TagOptions> tag_options = tag_options_for(o, tagger);
    const std::vector<data::ExtractItem> items = tag_inputs(o, tagger, global);
    const int threads = global.resolved_threads();
    int workers = o.jobs > 0 ? std::min(o.jobs, threads) : threads;
    workers = std::max(1, std::min<int>(workers, static_cast<int>(items.size())));
    // Fewer files than threads: each file's windows are spread over threads / workers sessions of one GEMM
    // thread each (bit-identical to one session: the same batches, summed in chunk order), which keeps
    // every core busy on one long file, batch after batch. A model scoring one window per file (the centred
    // crop of fixed-input models) cannot be split: its file worker gets every thread for GEMM instead.
    // An ensemble's members split their windows unless every member scores a single window.
    bool one_window = true;
    for (std::size_t m = 0; m < tagger.size(); ++m) {
        const data::ChunkOptions& eval = tagger.member(m).card().chunking;
        one_window = one_window && tag_options[m].layout == data::ChunkLayout::card &&
                     eval.eval == data::EvalChunking::evenly_spaced && eval.eval_chunks == 1;
    }
    const int per_file = one_window ? 1 : std::max(1, threads / workers);
    nn::set_thread_budget(one_window ? std::max(1, threads / workers) : 1);
    if (o.format == "csv") std::cout << "path,duration_seconds,tag,score\n";
    // Sessions (model copies) are made here, so a failure to build one is an error of the run itself.
    std::vector<std::unique_ptr<data::EnsembleSession>> sessions;
    for (int w = 0; w < workers; ++w) sessions.push_back(tagger.session(per_file));
    const double t_sessions = now_seconds();
    if (timing && workers * per_file == 1) nn::set_layer_profiling(true);  // layer totals need one thread
    PhaseTimes times;
    const std::size_t failed = tag_items(o, tagger, tag_options, items, sessions, times, global.quiet);
    if (!global.quiet && failed > 0) std::cerr << "mtag tag: " << failed << " of " << items.size() << " files failed\n";
    if (timing) print_timing(t_start, t_loaded, t_sessions, items.size(), workers, per_file, times);
    return failed > 0 ? 3 : 0;
}

}  // namespace

Command add_tag_command(CLI::App& root, const GlobalOptions& global) {
    auto o = std::make_shared<TagCommandOptions>();
    CLI::App* cmd = root.add_subcommand("tag", "Tag audio files with a trained model (tags, embeddings, taggrams)");
    add_tag_options(cmd, *o);
    return {cmd, [o, &global]() { return run_tag(*o, global); }};
}

}  // namespace mtag::app
