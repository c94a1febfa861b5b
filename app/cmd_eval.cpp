// mtag eval: one or more trained runs scored on a dataset split; one JSON object on stdout.
// Several runs form an ensemble: each featurises with its own card, and their probabilities are averaged.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/dataset_flags.hpp"
#include "data/pretrained/model_zoo.hpp"
#include "data/progress/progress.hpp"
#include "data/report/report.hpp"
#include "data/sets/load.hpp"
#include "data/sets/source.hpp"
#include "data/tag/ensemble.hpp"
#include "data/tag/tagger.hpp"
#include "dsp/error.hpp"
#include "nn/metrics.hpp"
#include "nn/threads.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "mtag_version.hpp"

namespace mtag::app {

namespace {

nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

// Column of each of the run's tags in the dataset's vocabulary; throws naming the missing tags.
// A smaller MTAT vocabulary than the run's is the usual cause: say which --top-n covers the run's tags.
std::vector<std::size_t> map_tags(const std::vector<std::string>& tags, const data::Dataset& dataset,
                                  const data::DatasetSource& source, const std::string& run) {
    std::vector<std::size_t> columns;
    std::string missing;
    for (const std::string& tag : tags) {
        auto it = std::find(dataset.vocabulary.begin(), dataset.vocabulary.end(), tag);
        if (it == dataset.vocabulary.end()) missing += (missing.empty() ? "" : ", ") + tag;
        else columns.push_back(static_cast<std::size_t>(it - dataset.vocabulary.begin()));
    }
    if (!missing.empty() && dataset.format == "mtat" && source.top_n < tags.size())
        throw Error("mtag eval --top-n " + std::to_string(source.top_n),
                    "the run has " + std::to_string(tags.size()) + " tags, and the dataset's top " +
                        std::to_string(source.top_n) + " lack " + missing + "; use --top-n " +
                        std::to_string(tags.size()) + " (or leave --top-n out to use the run's)");
    if (!missing.empty())
        throw Error("mtag eval", "tags of run '" + run + "' are not in the dataset's vocabulary: " + missing +
                                     " (evaluate on data labelled with the same tags)");
    return columns;
}

// A group of mutually exclusive tags inside a multi-label vocabulary (e.g. the genres of `mtag synth`),
// scored like a single-label task: the arg-max over the group's tags against the one true tag.
struct TagGroup {
    std::string name;
    std::vector<std::string> tags;
};

// "NAME=tag1,tag2,..." from --group.
TagGroup parse_group(const std::string& text) {
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        throw UsageError("--group '" + text + "': expected NAME=tag1,tag2,... (e.g. genre=rock,jazz,classical)");
    TagGroup group{text.substr(0, eq), {}};
    std::size_t begin = eq + 1;
    while (begin <= text.size()) {
        const std::size_t end = std::min(text.find(',', begin), text.size());
        if (end > begin) group.tags.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    if (group.tags.size() < 2) throw UsageError("--group '" + text + "': a group needs at least two tags");
    return group;
}

// A `mtag synth` corpus names each clip's genre in DIR/synth.json; its genres form the group "genre".
std::optional<TagGroup> synth_genre_group(const std::string& data_path) {
    namespace fs = std::filesystem;
    const fs::path folder = fs::is_directory(data_path) ? fs::path(data_path) : fs::path(data_path).parent_path();
    std::ifstream in(folder / "synth.json");
    if (!in) return std::nullopt;
    const nlohmann::json card = nlohmann::json::parse(in, nullptr, false);
    if (card.is_discarded() || !card.contains("items") || !card["items"].is_array()) return std::nullopt;
    TagGroup group{"genre", {}};
    for (const auto& item : card["items"]) {
        if (!item.contains("genre") || !item["genre"].is_string()) continue;
        const std::string genre = item["genre"].get<std::string>();
        if (std::find(group.tags.begin(), group.tags.end(), genre) == group.tags.end()) group.tags.push_back(genre);
    }
    if (group.tags.size() < 2) return std::nullopt;
    return group;
}

// Accuracy and confusion matrix of a tag group over the clips with exactly one of its tags.
nlohmann::ordered_json score_group(const TagGroup& group, const std::vector<std::string>& run_tags,
                                   const nn::ConstMatrixView& scores, const nn::ConstMatrixView& labels) {
    std::vector<std::size_t> columns;
    for (const std::string& tag : group.tags) {
        auto it = std::find(run_tags.begin(), run_tags.end(), tag);  // present: checked before scoring
        columns.push_back(static_cast<std::size_t>(it - run_tags.begin()));
    }
    const std::size_t k = columns.size();
    std::vector<float> group_scores;
    std::vector<std::int32_t> targets;
    std::size_t ambiguous = 0;
    for (std::size_t r = 0; r < scores.rows; ++r) {
        int truth = -1, positives = 0;
        for (std::size_t g = 0; g < k; ++g)
            if (labels.at(r, columns[g]) >= 0.5f) truth = static_cast<int>(g), ++positives;
        if (positives != 1) {
            ++ambiguous;
            continue;
        }
        targets.push_back(truth);
        for (std::size_t g = 0; g < k; ++g) group_scores.push_back(scores.at(r, columns[g]));
    }
    nlohmann::ordered_json out;
    out["tags"] = group.tags;
    out["clips"] = targets.size();
    out["left_out"] = ambiguous;  // clips with none or several of the group's tags
    if (targets.empty()) {
        out["accuracy"] = nullptr;
        return out;
    }
    const nn::ConstMatrixView view{group_scores, targets.size(), k};
    out["accuracy"] = nn::accuracy(view, targets);
    const std::vector<std::int64_t> confusion = nn::confusion_matrix(view, targets);
    nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
    for (std::size_t r = 0; r < k; ++r)
        matrix.push_back(std::vector<std::int64_t>(confusion.begin() + static_cast<std::ptrdiff_t>(r * k),
                                                   confusion.begin() + static_cast<std::ptrdiff_t>((r + 1) * k)));
    out["confusion"] = matrix;  // rows: true tag, columns: predicted tag, in `tags` order
    return out;
}

// What `mtag eval` was asked for on the command line.
struct EvalOptions {
    std::vector<std::string> models;
    DatasetFlags dataset;  // unset options: the first run's recorded ones (dataset_for_run)
    std::string split = "test";
    std::string chunks = "card";
    std::size_t batch_size = 16;
    int jobs = 0;
    std::vector<std::string> groups;
    bool report = false;
};

// Declares eval's options on its subcommand; CLI11 parses them into o.
void add_eval_options(CLI::App* cmd, EvalOptions& o) {
    cmd->add_option("--model", o.models,
                    "Run directory, ensemble directory (mtag model ensemble) or pretrained model name (mtag model "
                    "list); repeat for an ensemble (probabilities averaged, each model with its own front end)")
        ->required();
    cmd->add_option("--data", o.dataset.data, "Dataset (annotation file or folder)")->required();
    add_dataset_flags(cmd, o.dataset);
    cmd->add_option("--split", o.split, "train | valid | test")->capture_default_str();
    cmd->add_option("--chunks", o.chunks,
                    "card (the run's evaluation chunks) | all (every non-overlapping chunk)")
        ->check(CLI::IsMember({"card", "all"}))
        ->capture_default_str();
    cmd->add_option("--batch-size", o.batch_size, "Chunks per forward pass")
        ->check(positive)
        ->capture_default_str();
    cmd->add_option("--jobs,-j", o.jobs, "Clips in parallel (default: --threads)")
        ->check(non_negative);
    cmd->add_option("--group", o.groups,
                    "NAME=tag1,tag2,...: mutually exclusive tags scored as one single-label task (accuracy, "
                    "confusion); repeatable. A mtag synth corpus adds its genres as 'genre'");
    cmd->add_flag("--report", o.report,
                  "Also save the result as RUN/eval.json and rewrite RUN/report.html with it (first --model, a run "
                  "folder)");
    cmd->footer(
        "Dataset options not given are the run's (its config.json data section: split rule, top-n, Jamendo split "
        "and category, split files) when --data has the run's format; the report's \"dataset\" says what was used. "
        "Labels are matched to the run's tags by name.\n"
        "Exit code 3 when some clips could not be decoded (reported on stderr, left out of the metrics).");
}

// The runs of the ensemble, loaded (data/tag/ensemble.hpp: throws naming the models when their tag lists or
// tasks differ). A model may be a pretrained model's name, fetched on first use.
data::Ensemble load_ensemble(const std::vector<std::string>& models, bool quiet) {
    std::vector<std::filesystem::path> dirs;
    for (const std::string& m : models) dirs.push_back(data::resolve_model(m, mtag::version, quiet));
    return data::Ensemble(dirs, models);
}

// Throws when a --group names a tag the runs do not output.
void check_group_tags(const std::vector<TagGroup>& groups, const std::vector<std::string>& run_tags) {
    for (const TagGroup& group : groups)
        for (const std::string& tag : group.tags)
            if (std::find(run_tags.begin(), run_tags.end(), tag) == run_tags.end())
                throw UsageError("--group " + group.name + ": tag '" + tag +
                                 "' is not one of the run's tags");
}

// Each clip's ensemble-averaged scores ([clips, tags]), whether it was tagged, and its duration.
struct ClipScores {
    std::vector<float> scores;
    std::vector<char> ok;
    std::vector<double> durations;
};

// Tags the clips on `workers` threads, each with its own session of every run; failures go to stderr.
ClipScores score_clips(const data::Ensemble& models, const data::Dataset& dataset, const std::vector<std::size_t>& clips,
                       std::size_t n_tags, const data::TagOptions& tag_options, int workers, bool quiet) {
    ClipScores result{std::vector<float>(clips.size() * n_tags, 0.0f), std::vector<char>(clips.size(), 0),
                      std::vector<double>(clips.size(), 0.0)};
    std::atomic<std::size_t> next{0};
    // Clips done / total, clips/s and ETA on stderr (a bar on a terminal, a line every 5 s otherwise).
    data::Progress progress("eval", clips.size(), !quiet, 5.0, "clips");
    const std::vector<data::TagOptions> options = models.member_options(tag_options, false);
    std::vector<std::unique_ptr<data::EnsembleSession>> sessions;
    for (int w = 0; w < workers; ++w) sessions.push_back(models.session());
    auto work = [&](data::EnsembleSession* session) {
        for (std::size_t i = next++; i < clips.size(); i = next++) {
            const data::Clip& clip = dataset.clips[clips[i]];
            try {
                const data::TagResult r = session->tag_file(clip.audio_path, options);
                std::copy(r.scores.begin(), r.scores.end(), result.scores.begin() + static_cast<std::ptrdiff_t>(i * n_tags));
                result.durations[i] = r.duration_seconds;
                result.ok[i] = 1;
            } catch (const std::exception& e) {
                progress.message("mtag eval: skipped " + clip.audio_path.string() + ": " + e.what());
            }
            progress.advance();
        }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) pool.emplace_back(work, sessions[static_cast<std::size_t>(w)].get());
    work(sessions[0].get());
    for (std::thread& t : pool) t.join();
    progress.finish();
    return result;
}

// The clips that were scored: their scores and labels (in the runs' tag order, [rows, tags]).
struct ScoredClips {
    std::vector<float> scores, labels;
    std::size_t rows = 0;
    std::size_t failed = 0;
    double audio_seconds = 0;
};

// Keeps the clips that were scored, with their labels mapped to the runs' tag order.
ScoredClips keep_scored(const ClipScores& all, const data::Dataset& dataset,
                        const std::vector<std::size_t>& clips, const std::vector<std::size_t>& columns,
                        std::size_t n_tags) {
    ScoredClips kept;
    for (std::size_t i = 0; i < clips.size(); ++i) {
        if (!all.ok[i]) {
            ++kept.failed;
            continue;
        }
        kept.scores.insert(kept.scores.end(), all.scores.begin() + static_cast<std::ptrdiff_t>(i * n_tags),
                           all.scores.begin() + static_cast<std::ptrdiff_t>((i + 1) * n_tags));
        const data::Clip& clip = dataset.clips[clips[i]];
        for (std::size_t t = 0; t < n_tags; ++t) kept.labels.push_back(clip.tags[columns[t]] ? 1.0f : 0.0f);
        kept.audio_seconds += all.durations[i];
    }
    kept.rows = clips.size() - kept.failed;
    return kept;
}

// ROC-AUC, PR-AUC and the number of positive clips of each tag.
nlohmann::ordered_json per_tag_scores(const std::vector<std::string>& tags, const nn::TaggingMetrics& metrics,
                                      const ScoredClips& kept) {
    const std::size_t n_tags = tags.size();
    nlohmann::ordered_json per_tag = nlohmann::ordered_json::array();
    for (std::size_t t = 0; t < n_tags; ++t) {
        std::size_t positives = 0;
        for (std::size_t r = 0; r < kept.rows; ++r) positives += kept.labels[r * n_tags + t] >= 0.5f;
        per_tag.push_back({{"tag", tags[t]},
                           {"roc_auc", number_or_null(metrics.roc_auc[t])},
                           {"pr_auc", number_or_null(metrics.average_precision[t])},
                           {"positives", positives}});
    }
    return per_tag;
}

// Each tag's ROC and precision-recall curves for `mtag plot roc` and the report, thinned to at most
// `max_points` points (evenly spaced over the thresholds, ends kept) and rounded to 4 decimals, so the
// JSON stays small for large test sets.
nlohmann::ordered_json tag_curves(const std::vector<std::string>& tags, const ScoredClips& kept,
                                  std::size_t max_points = 101) {
    const std::size_t n_tags = tags.size();
    nlohmann::ordered_json curves = nlohmann::ordered_json::array();
    std::vector<float> scores(kept.rows), labels(kept.rows);
    auto thin = [&](const std::vector<double>& v) {
        std::vector<double> out;
        const std::size_t n = v.size();
        const std::size_t m = std::min(n, max_points);
        for (std::size_t i = 0; i < m; ++i) {
            const std::size_t at = m == 1 ? 0 : i * (n - 1) / (m - 1);
            out.push_back(std::round(v[at] * 1e4) / 1e4);
        }
        return out;
    };
    for (std::size_t t = 0; t < n_tags; ++t) {
        for (std::size_t r = 0; r < kept.rows; ++r) {
            scores[r] = kept.scores[r * n_tags + t];
            labels[r] = kept.labels[r * n_tags + t];
        }
        const nn::BinaryCurves c = nn::binary_curves(scores, labels);
        if (c.fpr.empty()) continue;  // one class only: no curve
        curves.push_back({{"tag", tags[t]}, {"fpr", thin(c.fpr)}, {"tpr", thin(c.tpr)}, {"recall", thin(c.recall)},
                          {"precision", thin(c.precision)}});
    }
    return curves;
}

// Adds the accuracy and confusion matrix of a single-label task (targets: each clip's arg-max label).
void add_single_label_scores(nlohmann::ordered_json& out, const std::vector<std::string>& tags,
                             const nn::ConstMatrixView& score_view, const ScoredClips& kept) {
    const std::size_t n_tags = tags.size(), rows = kept.rows;
    const std::vector<float>& labels = kept.labels;
    std::vector<std::int32_t> targets(rows);
    for (std::size_t r = 0; r < rows; ++r)
        targets[r] = static_cast<std::int32_t>(
            std::max_element(labels.begin() + static_cast<std::ptrdiff_t>(r * n_tags),
                             labels.begin() + static_cast<std::ptrdiff_t>((r + 1) * n_tags)) -
            (labels.begin() + static_cast<std::ptrdiff_t>(r * n_tags)));
    out["accuracy"] = nn::accuracy(score_view, targets);
    const std::vector<std::int64_t> confusion = nn::confusion_matrix(score_view, targets);
    nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
    for (std::size_t r = 0; r < n_tags; ++r)
        matrix.push_back(
            std::vector<std::int64_t>(confusion.begin() + static_cast<std::ptrdiff_t>(r * n_tags),
                                      confusion.begin() + static_cast<std::ptrdiff_t>((r + 1) * n_tags)));
    out["confusion"] = {{"labels", tags}, {"matrix", matrix}};
}

// The metrics of the scored clips as eval's JSON object (without the clip counts and timing).
nlohmann::ordered_json eval_report(const EvalOptions& o, data::Split split, const data::RunCard& card,
                                   const ScoredClips& kept, std::vector<TagGroup> groups) {
    const std::size_t n_tags = card.tags.size();
    const nn::ConstMatrixView score_view{kept.scores, kept.rows, n_tags};
    const nn::ConstMatrixView label_view{kept.labels, kept.rows, n_tags};
    const nn::TaggingMetrics metrics = nn::tagging_metrics(score_view, label_view);

    nlohmann::ordered_json out;
    out["models"] = o.models;
    out["data"] = o.dataset.data;
    out["split"] = data::to_string(split);
    out["task"] = data::to_string(card.task);
    out["roc_auc_macro"] = number_or_null(metrics.macro_roc_auc);
    out["pr_auc_macro"] = number_or_null(metrics.macro_average_precision);
    out["per_tag"] = per_tag_scores(card.tags, metrics, kept);
    nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
    for (std::size_t t : metrics.skipped_tags) skipped.push_back(card.tags[t]);
    out["skipped_tags"] = skipped;
    if (card.task == data::Task::singlelabel) add_single_label_scores(out, card.tags, score_view, kept);
    if (card.task == data::Task::multilabel && groups.empty())
        if (std::optional<TagGroup> genre = synth_genre_group(o.dataset.data)) groups.push_back(*genre);
    if (!groups.empty()) {
        nlohmann::ordered_json scored;
        for (const TagGroup& group : groups)
            scored[group.name] = score_group(group, card.tags, score_view, label_view);
        out["groups"] = scored;
    }
    out["curves"] = tag_curves(card.tags, kept);
    return out;
}

// --report: RUN/eval.json (temporary name, then rename) and RUN/report.html rewritten with it.
void write_eval_report(const EvalOptions& o, const std::string& json, bool quiet) {
    namespace fs = std::filesystem;
    const fs::path run = o.models.front();
    const fs::path eval_path = run / "eval.json", tmp = run / "eval.json.tmp";
    {
        std::ofstream file(tmp, std::ios::binary);
        file << json << "\n";
        if (!file.flush()) throw Error("mtag eval --report", "cannot write '" + tmp.string() + "'");
    }
    fs::rename(tmp, eval_path);
    data::report::ReportOptions options;
    options.run = run;
    options.eval = eval_path;
    options.mtag_version = mtag::version;
    data::report::write_report(options, run / "report.html");
    if (!quiet) std::cerr << "mtag eval: wrote " << eval_path.string() << " and " << (run / "report.html").string() << "\n";
}

// Scores the runs on the dataset split and prints one JSON object; 3 when some clips could not be scored.
int run_eval(const EvalOptions& o, const GlobalOptions& global) {
    const auto start = std::chrono::steady_clock::now();
    const std::optional<data::Split> split = data::parse_split(o.split);
    if (!split) throw UsageError("--split '" + o.split + "' is not train, valid or test");
    std::vector<TagGroup> groups;
    for (const std::string& text : o.groups) groups.push_back(parse_group(text));
    if (o.report && data::is_ensemble_dir(o.models.front()))
        throw UsageError("--report needs the first --model to be a run folder, not an ensemble directory");
    if (o.report && !std::filesystem::is_directory(o.models.front()))
        throw UsageError("--report needs the first --model to be a run folder (it writes RUN/eval.json and RUN/report.html)");
    const data::Ensemble taggers = load_ensemble(o.models, global.quiet);
    const data::RunCard& first = taggers.card();
    check_group_tags(groups, first.tags);  // fail before the scoring, not after it

    const int threads = global.resolved_threads();
    data::DatasetOptions dataset_options;
    dataset_options.threads = threads;
    dataset_options.seed = global.seed;
    const data::DatasetSource source = dataset_for_run(o.dataset, taggers.run_dir(), "eval", global.quiet);
    const data::Dataset dataset = data::load_dataset(source, dataset_options);
    const std::vector<std::size_t> clips = dataset.indices(*split);
    if (clips.empty()) throw Error("mtag eval", "the " + o.split + " split of '" + source.path + "' has no clips");
    const std::vector<std::size_t> columns = map_tags(first.tags, dataset, source, o.models[0]);
    const std::size_t n_tags = first.tags.size();

    int workers = o.jobs > 0 ? std::min(o.jobs, threads) : threads;
    workers = std::max(1, std::min<int>(workers, static_cast<int>(clips.size())));
    nn::set_thread_budget(std::max(1, threads / workers));
    data::TagOptions tag_options;
    tag_options.layout = o.chunks == "all" ? data::ChunkLayout::all : data::ChunkLayout::card;
    tag_options.batch_size = o.batch_size;
    const ScoredClips kept = keep_scored(score_clips(taggers, dataset, clips, n_tags, tag_options, workers, global.quiet),
                                         dataset, clips, columns, n_tags);
    if (kept.rows == 0) throw Error("mtag eval", "no clip of the " + o.split + " split could be scored");

    nlohmann::ordered_json out = eval_report(o, *split, first, kept, std::move(groups));
    out["dataset"] = dataset_record(source, dataset.format);
    out["clips"] = kept.rows;
    out["failed"] = kept.failed;
    out["audio_seconds"] = kept.audio_seconds;
    out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << out.dump() << "\n";
    std::cout.flush();
    if (o.report) write_eval_report(o, out.dump(), global.quiet);
    return kept.failed > 0 ? 3 : 0;
}

}  // namespace

Command add_eval_command(CLI::App& root, const GlobalOptions& global) {
    auto o = std::make_shared<EvalOptions>();
    CLI::App* cmd =
        root.add_subcommand("eval", "Score trained runs on a dataset split (ROC-AUC, PR-AUC, accuracy)");
    add_eval_options(cmd, *o);
    return {cmd, [o, &global]() { return run_eval(*o, global); }};
}

}  // namespace mtag::app
