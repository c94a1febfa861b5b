// mtag train: trains a tagging model from a config file (or a preset and a dataset) into a run directory.
// Common settings are flags on top of the config; see data/train_config.hpp and data/trainer.hpp.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/dataset_flags.hpp"
#include "app/stop_signals.hpp"
#include "data/plot/lr_find_plot.hpp"
#include "data/plot/training_log.hpp"
#include "data/progress/progress.hpp"
#include "data/report/diagnosis.hpp"
#include "data/report/report.hpp"
#include "data/run/output_lock.hpp"
#include "data/train/epoch_report.hpp"
#include "data/pretrained/model_zoo.hpp"
#include "data/distributed/communicator.hpp"
#include "data/sets/source.hpp"
#include "data/sweep/cross_validation.hpp"
#include "data/sweep/resumable_run.hpp"
#include "data/train/train_step.hpp"
#include "data/train/trainer.hpp"
#include "dsp/error.hpp"
#include "mtag_version.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <thread>
#include <fstream>
#include <iostream>
#include <optional>

namespace mtag::app {

namespace {

// What `mtag train` was asked for on the command line (unset optionals keep the config's values).
struct TrainOptions {
    std::string config, out, preset;
    DatasetFlags dataset;  // over the config's data section
    std::optional<std::int64_t> epochs;
    std::optional<std::size_t> batch_size;
    std::optional<double> lr, max_minutes, lr_multiplier;
    std::optional<int> workers;
    bool resume = false;
    bool sync_bn = false;
    std::string init_from;
    int freeze = 0;
    double bucket_mb = 4;
    std::size_t check_every = 100;
    std::size_t stop_after = 0;
    int stall_rank = -1;
    bool report = false;
    std::size_t folds = 0;
    std::optional<std::size_t> keep_checkpoints;
    std::size_t overfit_batches = 0;
    bool lr_find = false;
    nn::LrFinderOptions lr_find_options;
};

// Declares train's options on its subcommand; CLI11 parses them into o.
void add_train_options(CLI::App* cmd, TrainOptions& o) {
    cmd->add_option("--config", o.config, "Training config JSON (see 'mtag config show PRESET'; every key: 'mtag config reference')");
    cmd->add_option("--out", o.out, "Run directory")->required();
    cmd->add_option("--preset", o.preset, "Model preset (instead of, or overriding, the config's model)");
    cmd->add_option("--data", o.dataset.data, "Dataset annotation file or folder (config data.path)");
    add_dataset_flags(cmd, o.dataset);
    cmd->add_option("--epochs", o.epochs, "Epochs")->check(positive);
    cmd->add_option("--batch-size", o.batch_size, "Batch size")->check(positive);
    cmd->add_option("--lr", o.lr, "Learning rate")->check(positive);
    cmd->add_option("--max-minutes", o.max_minutes,
                    "Stop after the epoch in which this budget runs out, keeping the best model")
        ->check(non_negative);
    cmd->add_option("--workers", o.workers, "Loader threads (within --threads)")->check(positive);
    cmd->add_flag("--resume", o.resume, "Continue the run in --out from its checkpoint");
    cmd->add_flag("--report", o.report,
                  "Write RUN/report.html at the end (model card, curves, diagnosis; mtag eval --report adds the "
                  "evaluation)");
    cmd->add_option("--folds", o.folds,
                    "K-fold cross-validation on the training split (K >= 2): RUNDIR/fold-1..K run directories "
                    "(each validated on its held-out fold; the valid split unused, test untouched), the metric's "
                    "mean and std in RUNDIR/folds.json; folds seeded by --seed (the config's seed)");
    cmd->add_option("--keep-checkpoints", o.keep_checkpoints,
                    "Keep the weights of the last K epochs (and the best) in RUN/checkpoints/ for 'mtag model average "
                    "RUN --last K' (config keep_checkpoints)");
    cmd->add_option("--overfit-batches", o.overfit_batches,
                    "Sanity check: train on the first N batches only, the same every epoch (no shuffling, no "
                    "augmentation, dropout off, no early stopping) until the training loss is below 0.05; reports whether it got "
                    "there")
        ->check(positive);
    cmd->add_flag("--lr-find", o.lr_find,
                  "Learning-rate range test instead of training: the rate grows exponentially from --lr-find-min to "
                  "--lr-find-max over --lr-find-steps steps (stopping when the smoothed loss passes 4x its minimum); "
                  "writes RUN/lr_find.jsonl and RUN/lr_find.png and suggests the rate of steepest descent");
    cmd->add_option("--lr-find-min", o.lr_find_options.min_lr, "Lowest rate of --lr-find")
        ->capture_default_str()
        ->check(positive);
    cmd->add_option("--lr-find-max", o.lr_find_options.max_lr, "Highest rate of --lr-find")
        ->capture_default_str()
        ->check(positive);
    cmd->add_option("--lr-find-steps", o.lr_find_options.steps, "Steps of --lr-find (batches; epochs repeat as needed)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{2}, std::size_t{100000}));
    cmd->add_option("--init-from", o.init_from,
                    "Fine-tune: start from another run's weights or a pretrained model (mtag model list); the "
                    "output layer is re-created when the tags differ");
    cmd->add_option("--freeze", o.freeze, "Freeze the first N blocks (their BatchNorm stays in eval mode)")
        ->check(non_negative);
    cmd->add_option("--lr-multiplier", o.lr_multiplier,
                    "Learning-rate multiplier for the pretrained part (--init-from)")
        ->check(non_negative);
    cmd->add_option("--bucket-mb", o.bucket_mb, "mpirun: gradient all-reduce bucket size in MiB")
        ->check(positive)
        ->capture_default_str();
    cmd->add_option("--check-every", o.check_every,
                    "mpirun: optimizer steps between cross-rank weight checksums "
                    "(0 = epoch ends only)")
        ->capture_default_str();
    cmd->add_flag("--sync-bn", o.sync_bn,
                  "mpirun: BatchNorm uses the statistics of the whole global batch "
                  "(summed over ranks) instead of each rank's shard (config sync_batchnorm)");
    // Test hook: stop as if interrupted after N batches (checkpoint written, resumable).
    cmd->add_option("--stop-after-batches", o.stop_after, "")->group("");
    // Test hook: this MPI rank hangs before training (the watchdog must abort the job).
    cmd->add_option("--stall-rank", o.stall_rank, "")->group("");
    cmd->footer(
        "At the end of a run the loss curves are diagnosed (learning rate too high or too low, overfitting, "
        "underfitting): printed on stderr and appended to log.jsonl as {\"event\": \"diagnosis\"}.\n"
        "Ctrl-C / SIGTERM saves a checkpoint and exits; --resume continues. --threads and --seed (global) "
        "override the config's. The dataset options override the config's data section (same names with "
        "underscores: data.top_n, data.split_files, ...); config.json in the run directory records them.\n"
        "Data parallel: 'mpirun -np K mtag --threads T train ...' splits each batch over K ranks "
        "(T threads each); see README, 'Running on a cluster'.");
}

// The training config: the run's own (--resume), --config's or the preset's recipe, with the flags on top.
data::TrainConfig train_config(const TrainOptions& o, const GlobalOptions& global, bool seed_given) {
    data::TrainConfig config;
    if (o.resume && o.config.empty() && std::filesystem::exists(std::filesystem::path(o.out) / "config.json"))
        config = data::TrainConfig::load(std::filesystem::path(o.out) / "config.json");
    else if (!o.config.empty())
        config = data::TrainConfig::load(o.config);
    else if (o.preset.empty())
        throw UsageError("mtag train: give --config FILE or --preset NAME --data PATH");
    if (!o.preset.empty() && config.model.preset != o.preset) {
        // Another preset: its recipe's front end, optimizer, schedule and phases; a --config's other settings
        // (batch size, epochs, ...) are kept, without one they come from the recipe too.
        nlohmann::json j = config.to_json();
        for (const char* recipe_key : {"model", "features", "optimizer", "schedule", "phases"}) j.erase(recipe_key);
        if (o.config.empty())
            for (const char* recipe_key : {"batch_size", "epochs", "early_stopping"}) j.erase(recipe_key);
        j["model"] = {{"preset", o.preset}};
        config = data::TrainConfig::from_json(j, "mtag train --preset " + o.preset);
    }
    apply_dataset_flags(o.dataset, config.data);
    if (o.epochs) config.epochs = *o.epochs;
    if (o.batch_size) config.batch_size = *o.batch_size;
    if (o.max_minutes) config.max_minutes = *o.max_minutes;
    if (o.workers) config.data.workers = *o.workers;
    if (o.sync_bn) config.sync_batchnorm = true;
    if (global.threads > 0) config.threads = global.threads;
    if (seed_given) config.seed = global.seed;
    if (o.lr) config.optimizer.set_lr(*o.lr);
    if (o.lr_multiplier) config.optimizer.pretrained_lr_multiplier = *o.lr_multiplier;
    if (o.keep_checkpoints) config.keep_checkpoints = *o.keep_checkpoints;
    // The sanity check needs epochs to get the loss down; the recipe's may be few (it stops once there).
    if (o.overfit_batches > 0 && !o.epochs) config.epochs = std::max<std::int64_t>(config.epochs, 200);
    config.resolve();
    if (config.data.path.empty())
        throw UsageError("mtag train: no dataset (--data PATH or data.path in the config)");
    return config;
}

// The config's dataset, loaded with durations; rank 0 says what it found unless --quiet.
data::Dataset load_train_dataset(const data::TrainConfig& config, const GlobalOptions& global) {
    data::DatasetOptions dopt;
    dopt.seed = config.seed;
    dopt.read_durations = true;  // known durations let the loader decode only each crop's window
    dopt.threads = config.threads > 0 ? config.threads : global.resolved_threads();
    data::Dataset dataset = data::load_dataset(config.data, dopt);
    if (!global.quiet && data::dist::Communicator::world().is_root())
        std::cerr << "mtag train: " << config.preset() << " on " << dataset.format << " "
                  << config.data.path << ": " << dataset.count(data::Split::train) << " train, "
                  << dataset.count(data::Split::valid) << " valid clips, " << dataset.vocabulary.size()
                  << " tags\n";
    return dataset;
}

// The trainer's options from the command line (the stop flag is the signal handlers').
data::TrainerOptions trainer_options(const TrainOptions& o, const GlobalOptions& global) {
    data::TrainerOptions t;
    t.out_dir = o.out;
    t.resume = o.resume;
    // A run directory, or a pretrained model's name (fetched on first use).
    if (!o.init_from.empty()) t.init_from = data::resolve_model(o.init_from, mtag::version, global.quiet);
    t.freeze = o.freeze;
    t.quiet = global.quiet;
    t.mtag_version = mtag::version;
    t.stop = StopSignals::flag();
    t.comm = &data::dist::Communicator::world();
    t.bucket_bytes = static_cast<std::size_t>(o.bucket_mb * 1024 * 1024);
    t.check_every = o.check_every;
    t.stop_after_batches = o.stop_after;
    t.overfit_batches = o.overfit_batches;
    if (o.lr_find) t.lr_find = o.lr_find_options;
    if (o.lr_find && o.overfit_batches) throw UsageError("mtag train: --lr-find and --overfit-batches are separate modes");
    return t;
}

// Progress within each epoch (data/progress): steps done / total, steps/s and the epoch's ETA, plus the
// running mean loss, clips/s and the ETA of the whole run (the remaining epochs at the mean duration of the
// finished ones, validation included; the current epoch's pace before one has finished).
class TrainProgress {
  public:
    // `steps_log`: RUN/steps.jsonl, one line per optimizer step (epoch, batch, batches, loss) for the
    // per-step curve of mtag plot curves; appended to, so a resumed run continues it.
    TrainProgress(bool enabled, std::filesystem::path steps_log) : m_enabled(enabled), m_steps_path(std::move(steps_log)) {}

    void operator()(const data::StepProgress& s) {
        // Opened at the first step: the trainer has made the run folder by then.
        if (!m_steps_path.empty() && !m_steps_log.is_open()) m_steps_log.open(m_steps_path, std::ios::app);
        if (m_steps_log && !s.epoch_end)
            m_steps_log << "{\"epoch\":" << s.epoch << ",\"batch\":" << s.batch << ",\"batches\":" << s.batches
                        << ",\"loss\":" << s.loss << "}\n";
        if (s.epoch_end && m_steps_log) m_steps_log.flush();
        if (!m_enabled) return;
        const auto now = std::chrono::steady_clock::now();
        if (s.epoch_end) {
            if (m_bar) m_bar->finish(false);  // the trainer prints the epoch's line next
            m_bar.reset();
            return;
        }
        if (!m_bar || s.epoch != m_epoch) {
            if (m_started && m_epoch >= 0) {  // the previous epoch (and its validation) just ended
                m_epoch_seconds_sum += seconds(m_epoch_start, now);
                ++m_epochs_timed;
            }
            m_started = true;
            m_epoch = s.epoch;
            m_epoch_start = now;
            m_loss_sum = 0;
            m_clips = 0;
            m_steps = 0;
            m_bar = std::make_unique<data::Progress>(
                "epoch " + std::to_string(s.epoch + 1) + "/" + std::to_string(s.epochs), s.batches, true, 5.0, "steps");
            // Steps already trained before a resume count as done.
            if (s.batch > 0) m_bar->advance(s.batch);
        }
        m_loss_sum += s.loss;
        m_clips += s.examples;
        ++m_steps;
        const double elapsed = seconds(m_epoch_start, now);
        const double per_step = elapsed / static_cast<double>(m_steps);
        const double epoch_left = per_step * static_cast<double>(s.batches - s.batch - 1);
        const double epoch_length = m_epochs_timed ? m_epoch_seconds_sum / m_epochs_timed : per_step * s.batches;
        const double run_left = epoch_left + epoch_length * static_cast<double>(s.epochs - s.epoch - 1);
        char note[160];
        std::snprintf(note, sizeof note, "loss %.4f, %.1f clips/s, run ETA %s", m_loss_sum / m_steps,
                      elapsed > 0 ? m_clips / elapsed : 0.0, data::format_duration(run_left).c_str());
        m_bar->set_note(note);
        m_bar->advance();
    }

  private:
    static double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
        return std::chrono::duration<double>(b - a).count();
    }
    bool m_enabled;
    std::filesystem::path m_steps_path;
    std::ofstream m_steps_log;
    bool m_started = false;
    std::unique_ptr<data::Progress> m_bar;
    std::int64_t m_epoch = -1;
    std::chrono::steady_clock::time_point m_epoch_start;
    double m_loss_sum = 0, m_clips = 0, m_epoch_seconds_sum = 0;
    std::size_t m_steps = 0, m_epochs_timed = 0;
};

// Trains with SIGINT / SIGTERM setting the stop flag (a checkpoint, then a clean exit), restored after.
data::TrainResult train_until_stopped(const data::TrainConfig& config, const data::Dataset& dataset,
                                      const data::TrainerOptions& t, int stall_rank) {
    const StopSignals signals;
    if (stall_rank >= 0 && t.comm->distributed() && t.comm->rank() == stall_rank)
        while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
    return data::train(config, dataset, t);
}

// The one-line JSON summary of a finished run; over MPI also rank 0's throughput and all-reduce share.
nlohmann::json train_summary(const std::string& out, const data::TrainResult& r,
                             const data::dist::Communicator& comm) {
    nlohmann::json summary = {{"out", out},
                              {"epochs_completed", r.epochs_completed},
                              {"best_epoch", r.best_epoch},
                              {"metric", r.metric},
                              {"best_value", r.best_value},
                              {"stop_reason", r.stop_reason},
                              {"skipped_batches", r.skipped_batches},
                              {"seconds", r.seconds}};
    if (comm.distributed()) {
        // Rank 0's step timing: throughput and the share of step time blocked in the all-reduce.
        summary["ranks"] = comm.size();
        summary["steps"] = r.steps;
        summary["examples_per_second"] = r.step_seconds > 0 ? r.examples_trained / r.step_seconds : 0.0;
        summary["comm_wait_seconds"] = r.comm_wait_seconds;
        summary["comm_fraction"] = r.step_seconds > 0 ? r.comm_wait_seconds / r.step_seconds : 0.0;
    }
    return summary;
}

// `mtag train --folds K`: the K fold runs under RUNDIR (data/sweep/cross_validation.hpp), resumable with
// --resume; prints the mean and std of the monitored metric as one JSON line.
int run_folds(const TrainOptions& o, const GlobalOptions& global, const data::TrainConfig& config,
              const data::Dataset& dataset) {
    namespace fs = std::filesystem;
    if (o.folds < 2) throw UsageError("--folds " + std::to_string(o.folds) + ": cross-validation needs at least 2 folds");
    if (data::dist::Communicator::world().distributed())
        throw UsageError("--folds runs in one process (mpirun: train each fold as its own job)");
    if (o.report) throw UsageError("--report with --folds: report a fold with 'mtag report --run RUNDIR/fold-K'");
    if (!o.init_from.empty() || o.freeze > 0 || o.stop_after > 0)
        throw UsageError("--folds does not combine with --init-from, --freeze or --stop-after-batches");
    const fs::path out = o.out;
    const bool started = fs::exists(out / "fold-1");
    if (started && !o.resume)
        throw Error("--out " + o.out, "already holds a cross-validation (fold-1); use --resume or another directory");
    if (!started && o.resume) throw Error("--resume", "no cross-validation in " + o.out + " (expected fold-1)");
    data::write_file_atomically(out / "config.json", config.to_json().dump(2) + "\n");
    std::optional<data::CrossValidationResult> cv;
    {
        const StopSignals signals;
        cv = data::cross_validate(config, dataset,
                                  {.dir = out, .folds = o.folds, .seed = config.seed, .quiet = global.quiet,
                                   .trainer_quiet = global.quiet, .mtag_version = mtag::version,
                                   .stop = StopSignals::flag(), .label = ""});
    }
    if (!cv) {
        std::cerr << "mtag train: interrupted; the fold in progress saved a checkpoint (continue with --resume)\n";
        return 1;
    }
    nlohmann::json summary = cv->to_json(o.folds, config.seed);
    summary.erase("runs");
    summary["out"] = o.out;
    std::cout << summary.dump() << std::endl;
    if (!global.quiet)
        std::cerr << "mtag train: " << cv->metric << " " << data::format_mean_std(cv->statistics) << " (mean ± std over "
                  << o.folds << " folds; " << (fs::path(o.out) / "folds.json").string() << ")\n";
    return 0;
}

// The end-of-run diagnosis of the loss curves (data/report/diagnosis): on stderr, and appended to log.jsonl as
// {"event": "diagnosis"}. Returns the codes of its warnings.
nlohmann::json diagnose_run(const std::string& out, bool quiet, const data::report::RunOutcome& outcome) {
    const data::plot::TrainingLog log = data::plot::read_training_log(out, true);
    const std::vector<data::report::Finding> findings = data::report::diagnose(log, outcome);
    std::ofstream(std::filesystem::path(out) / "log.jsonl", std::ios::app) << data::report::diagnosis_log_line(findings)
                                                                           << "\n";
    nlohmann::json codes = nlohmann::json::array();
    for (const data::report::Finding& f : findings) {
        if (f.severity == data::report::Severity::warning) codes.push_back(f.code);
        if (!quiet || f.severity == data::report::Severity::warning)
            std::cerr << "diagnosis: " << data::report::to_string(f.severity) << ": " << f.title << ": " << f.detail << "\n";
    }
    return codes;
}

// After --lr-find: the plot, the suggestion on stderr, the summary on stdout.
int finish_lr_find(const TrainOptions& o, const data::TrainResult& r, const GlobalOptions& global) {
    const nn::LrSuggestion& s = r.lr_suggestion;
    data::plot::LrFindCurve curve;
    for (const nn::LrFinderPoint& p : r.lr_find_points) {
        curve.lr.push_back(p.lr);
        curve.loss.push_back(p.loss);
        curve.smoothed.push_back(p.smoothed);
    }
    curve.suggestion = s.found ? s.lr : 0;
    const std::filesystem::path png = std::filesystem::path(o.out) / "lr_find.png";
    if (!curve.lr.empty()) data::plot::save_lr_find_plot(curve, png);
    nlohmann::json summary = {{"out", o.out},
                              {"lr_find", {{"steps", r.lr_find_points.size()},
                                           {"diverged", r.lr_find_diverged},
                                           {"suggested_lr", s.found ? nlohmann::json(s.lr) : nlohmann::json(nullptr)},
                                           {"min_loss_lr", s.found ? nlohmann::json(s.min_loss_lr) : nlohmann::json(nullptr)},
                                           {"min_loss_lr_div10",
                                            s.found ? nlohmann::json(s.min_loss_lr_div10) : nlohmann::json(nullptr)}}},
                              {"seconds", r.seconds}};
    if (!global.quiet) {
        if (s.found)
            std::cerr << "lr-find: suggested learning rate " << s.lr
                      << " (steepest descent of the smoothed loss; the minimum-loss rate / 10 is " << s.min_loss_lr_div10
                      << "); curve in " << png.string() << ", steps in " << (std::filesystem::path(o.out) / "lr_find.jsonl").string()
                      << "\n";
        else
            std::cerr << "lr-find: too few steps before the loss diverged to suggest a rate; lower --lr-find-min\n";
    }
    std::cout << summary.dump() << std::endl;
    return s.found ? 0 : 1;
}

// Runs `mtag train`: config, dataset, training; rank 0 prints the summary.
int run_train(const TrainOptions& o, const GlobalOptions& global, bool seed_given) {
    data::TrainConfig config = train_config(o, global, seed_given);
    // One process per run directory, refused before the dataset is read (the ranks of one MPI job share it on
    // purpose: rank 0 locks).
    std::optional<data::OutputLock> lock;
    if (data::dist::Communicator::world().is_root())
        lock.emplace(data::OutputLock::in_directory(o.out, "--out " + o.out, "mtag train"));
    const data::Dataset dataset = load_train_dataset(config, global);
    config.data.format = dataset.format;  // config.json records the detected format (mtag eval compares it)
    if (o.folds > 0) return run_folds(o, global, config, dataset);
    data::TrainerOptions t = trainer_options(o, global);
    auto progress = std::make_shared<TrainProgress>(!global.quiet && t.comm->is_root(),
                                                    t.comm->is_root() && !o.lr_find
                                                        ? std::filesystem::path(o.out) / "steps.jsonl"
                                                        : std::filesystem::path());
    t.on_step = [progress](const data::StepProgress& s) { (*progress)(s); };
    data::TrainResult r;
    try {
        r = train_until_stopped(config, dataset, t, o.stall_rank);
    } catch (const data::NonFiniteLoss& e) {
        if (t.comm->is_root() && !o.lr_find) diagnose_run(o.out, global.quiet, {true, e.what()});
        throw;
    }
    if (o.lr_find) return finish_lr_find(o, r, global);
    nlohmann::json summary = train_summary(o.out, r, *t.comm);
    if (o.overfit_batches > 0) {
        summary["overfit_batches"] = o.overfit_batches;
        summary["overfit_final_loss"] = r.overfit_final_loss;
        summary["overfit_reached"] = r.overfit_reached;
        if (!global.quiet)
            std::cerr << "overfit-batches " << o.overfit_batches << ": final training loss " << r.overfit_final_loss
                      << (r.overfit_reached ? " < " : " >= ") << t.overfit_threshold << " after " << r.epochs_completed
                      << " epochs: "
                      << (r.overfit_reached ? "the model can fit the data (sanity check passed)"
                                            : "the loss did not reach near zero: check the model, the loss, the labels "
                                              "and the data pipeline, or raise the learning rate or --epochs")
                      << "\n";
    }
    if (config.ema && r.ema_best_epoch > 0) {
        summary["ema_best_epoch"] = r.ema_best_epoch;
        summary["ema_best_value"] = r.ema_best_value;
        for (const auto& [k, v] : r.last_metrics)
            if (k.rfind("ema_", 0) == 0 && std::isfinite(v)) summary["last_" + k] = v;
        if (r.last_metrics.count(r.metric)) summary["last_" + r.metric] = r.last_metrics.at(r.metric);
    }
    if (t.comm->is_root() && !r.interrupted) summary["diagnosis"] = diagnose_run(o.out, global.quiet, {});
    if (t.comm->is_root()) std::cout << summary.dump() << std::endl;
    // Stopped by Ctrl-C or SIGTERM: the checkpoint is saved, but the run is not finished, which a script
    // must be able to tell from the exit code (as from `mtag sweep`, and as Python's KeyboardInterrupt does).
    if (r.interrupted && StopSignals::received()) return 1;
    if (o.report && t.comm->is_root()) {
        data::report::ReportOptions options;
        options.run = o.out;
        options.mtag_version = mtag::version;
        data::report::write_report(options, std::filesystem::path(o.out) / "report.html");
        if (!global.quiet) std::cerr << "mtag train: wrote " << (std::filesystem::path(o.out) / "report.html").string() << "\n";
    }
    return 0;
}

}  // namespace

Command add_train_command(CLI::App& root, const GlobalOptions& global) {
    auto o = std::make_shared<TrainOptions>();
    CLI::App* cmd = root.add_subcommand("train",
                                        "Train a tagging model (writes RUNDIR/model.json, model.safetensors, "
                                        "checkpoint.safetensors, log.jsonl)");
    add_train_options(cmd, *o);
    CLI::App* rootp = &root;
    return {cmd, [o, &global, rootp]() { return run_train(*o, global, rootp->count("--seed") > 0); }};
}

}  // namespace mtag::app
