// mtag sweep: random search over a training config (data/sweep/sweep.hpp), optionally cross-validated.
//   mtag sweep --config base.json --space space.json --trials N --out DIR [--seed S] [--max-minutes M]
//              [--metric roc_auc] [--folds K] [--data PATH ...]
// Prints the trials ranked (best first) on stdout; DIR/sweep.jsonl holds one line per finished trial.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/dataset_flags.hpp"
#include "app/stop_signals.hpp"
#include "data/sets/load.hpp"
#include "data/sweep/search_space.hpp"
#include "data/sweep/sweep.hpp"
#include "data/train/train_config.hpp"
#include "dsp/error.hpp"
#include "mtag_version.hpp"

#include <iostream>

namespace mtag::app {

namespace {

struct SweepCommandOptions {
    std::string config, space, out, metric = "auto";
    std::size_t trials = 0, folds = 0;
    double max_minutes = 0;
    DatasetFlags dataset;
};

// The metric names of the config (evaluation.metric), plus the short forms roc_auc and pr_auc.
std::string resolve_metric_name(const std::string& name) {
    if (name == "roc_auc") return "roc_auc_macro";
    if (name == "pr_auc") return "pr_auc_macro";
    for (const char* known : {"auto", "roc_auc_macro", "pr_auc_macro", "accuracy", "val_loss"})
        if (name == known) return name;
    throw UsageError("--metric '" + name + "': expected roc_auc (roc_auc_macro), pr_auc (pr_auc_macro), accuracy, "
                     "val_loss or auto (the config's evaluation.metric)");
}

void add_sweep_options(CLI::App* cmd, SweepCommandOptions& o) {
    cmd->add_option("--config", o.config, "Base training config JSON (what every trial starts from)")->required();
    cmd->add_option("--space", o.space,
                    "Search space JSON: {\"optimizer.lr\": {\"log_uniform\": [1e-4, 1e-1]}, \"model.dropout\": "
                    "{\"uniform\": [0, 0.5]}, \"batch_size\": {\"int_uniform\": [8, 32]}, \"optimizer\": "
                    "{\"choice\": [{\"name\": \"sgd\", \"lr\": 0.01}, {\"name\": \"adam\"}]}}: dotted config key "
                    "paths (mtag config show PRESET); a whole section is replaced")
        ->required();
    cmd->add_option("--trials", o.trials, "Trials (a rerun with more extends the sweep)")
        ->required()
        ->check(positive);
    cmd->add_option("--out", o.out, "Sweep directory (DIR/trial-NNN run directories, DIR/sweep.jsonl)")->required();
    cmd->add_option("--max-minutes", o.max_minutes,
                    "Time budget per trial (checked after each epoch; the best checkpoint is kept); 0 = the "
                    "config's max_minutes")
        ->check(non_negative)
        ->capture_default_str();
    cmd->add_option("--metric", o.metric,
                    "Metric to rank by, monitored by every trial (early stopping, best checkpoint): roc_auc, pr_auc, "
                    "accuracy, val_loss, or auto (the config's evaluation.metric)")
        ->capture_default_str();
    cmd->add_option("--folds", o.folds,
                    "K-fold cross-validation of every trial on the training split (K >= 2): trials ranked by the "
                    "mean over the folds, reported with its std")
        ->capture_default_str();
    cmd->add_option("--data", o.dataset.data, "Dataset (overrides the config's data.path)");
    add_dataset_flags(cmd, o.dataset);
    cmd->footer(
        "Trial i's values are drawn from a generator seeded by (--seed, i), so a sweep is reproducible and trial i "
        "does not depend on the others; the training seed is the config's \"seed\" (search it like any key). "
        "A killed sweep (Ctrl-C, kill -9) continues when the same command is run again: finished trials are "
        "kept, an interrupted trial resumes from its checkpoint. Two sweeps on one --out refuse to run together "
        "(DIR/.mtag.lock).");
}

int run_sweep_command(const SweepCommandOptions& o, const GlobalOptions& global) {
    data::SweepOptions s;
    s.metric = resolve_metric_name(o.metric);
    s.space = data::SearchSpace::load(o.space);
    data::TrainConfig base = data::TrainConfig::load(o.config);
    apply_dataset_flags(o.dataset, base.data);
    if (global.threads > 0) base.threads = global.threads;
    base.resolve();
    if (base.data.path.empty()) throw UsageError("mtag sweep: no dataset (--data PATH or data.path in the config)");
    if (o.folds == 1) throw UsageError("--folds 1: cross-validation needs at least 2 folds");

    data::DatasetOptions dopt;
    dopt.seed = base.seed;
    dopt.read_durations = true;
    dopt.threads = base.threads > 0 ? base.threads : global.resolved_threads();
    const data::Dataset dataset = data::load_dataset(base.data, dopt);
    base.data.format = dataset.format;
    if (!global.quiet)
        std::cerr << "mtag sweep: " << o.trials << " trials of " << base.preset() << " on " << dataset.format << " "
                  << base.data.path << ": " << dataset.count(data::Split::train) << " train, "
                  << dataset.count(data::Split::valid) << " valid clips"
                  << (o.folds > 1 ? " (" + std::to_string(o.folds) + "-fold cross-validation on train)" : "") << "\n";

    s.base = std::move(base);
    s.trials = o.trials;
    s.out = o.out;
    s.seed = global.seed;
    s.max_minutes = o.max_minutes;
    s.folds = o.folds;
    s.quiet = global.quiet;
    s.mtag_version = mtag::version;
    s.stop = StopSignals::flag();

    data::SweepResult result;
    {
        const StopSignals signals;
        result = data::run_sweep(s, dataset);
    }

    std::cout << data::ranking_table(result);
    std::cout.flush();
    if (result.interrupted) {
        std::cerr << "mtag sweep: interrupted after " << result.records.size() << " finished trial(s); the trial in "
                  << "progress saved a checkpoint. Run the same command again to continue.\n";
        return 1;
    }
    if (!global.quiet && !result.records.empty())
        std::cerr << "mtag sweep: " << result.records.size() << " trials in " << o.out << "/sweep.jsonl\n";
    return 0;
}

}  // namespace

Command add_sweep_command(CLI::App& root, const GlobalOptions& global) {
    auto o = std::make_shared<SweepCommandOptions>();
    CLI::App* cmd = root.add_subcommand(
        "sweep", "Random hyperparameter search over a training config (trials ranked; resumable; --folds K)");
    add_sweep_options(cmd, *o);
    return {cmd, [o, &global]() { return run_sweep_command(*o, global); }};
}

}  // namespace mtag::app
