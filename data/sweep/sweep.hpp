#pragma once
// Random search over a training config (`mtag sweep`); ref: Bergstra & Bengio 2012, "Random search for
// hyper-parameter optimization". Trial i trains apply_params(base, space.sample(seed, i)) (data/sweep/
// search_space.hpp) as an ordinary run directory, with the sweep's metric monitored (early stopping and the
// best checkpoint follow it) and its per-trial time budget:
//
//   DIR/sweep.json         the sweep's settings (base config, space, seed, metric, folds, budget); a rerun with
//                          other settings is refused, a rerun with more --trials extends the sweep
//   DIR/.mtag.lock         flock held while the sweep runs (data/run/output_lock.hpp)
//   DIR/trial-001/ ...     one run directory per trial (its own config.json, model, log, checkpoint,
//                          outcome.json); with folds, DIR/trial-NNN/fold-K/ and DIR/trial-NNN/folds.json
//   DIR/sweep.jsonl        one line per finished trial, in the order they finished; rewritten through a
//                          temporary name and a rename at each trial, so a kill never leaves half a line
//
// Resuming after a kill (even kill -9): trials with a line in sweep.jsonl are skipped; a trial that finished
// but whose line was not written yet (outcome.json present) gets its line without training; an interrupted
// trial continues from its checkpoint (the trainer's resume); a trial without a checkpoint starts again.
#include "data/sets/dataset.hpp"
#include "data/sweep/folds.hpp"
#include "data/sweep/resumable_run.hpp"
#include "data/sweep/search_space.hpp"
#include "data/train/train_config.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data {

struct SweepOptions {
    TrainConfig base;                 // resolved; its data section is what the trials record
    SearchSpace space;
    std::size_t trials = 10;
    std::filesystem::path out;
    std::uint64_t seed = 0;           // trial i's parameters come from (seed, i); the folds from seed
    double max_minutes = 0;           // per trial (0 = the base config's max_minutes)
    std::string metric = "auto";      // roc_auc_macro | pr_auc_macro | accuracy | val_loss | auto (the config's)
    std::size_t folds = 0;            // > 1: every trial is a K-fold cross-validation, ranked by the mean
    bool quiet = false;               // one line per trial on stderr
    std::string mtag_version;
    const std::atomic<bool>* stop = nullptr;
};

// One finished trial: a line of sweep.jsonl.
struct TrialRecord {
    std::size_t trial = 0;            // 1-based
    std::string dir;                  // "trial-001" (relative to the sweep directory)
    TrialParams params;
    std::string metric;
    std::optional<double> value;      // the best value, or the mean over the folds
    std::optional<double> std_dev;       // over the folds
    RunOutcome outcome;               // without folds: the run's; with folds: best epoch etc. of fold 1
    double seconds = 0;               // all folds

    nlohmann::json to_json() const;
    static TrialRecord from_json(const nlohmann::json& j, const std::string& where);
};

struct SweepResult {
    std::vector<TrialRecord> records;  // every finished trial (earlier processes' too), in sweep.jsonl order
    bool interrupted = false;
    bool maximize = true;              // false for val_loss
};

// The config of trial `index` (0-based): the base with the sampled params, the sweep's metric and budget;
// parsed and resolved as a training config, so a bad key or value throws naming the trial and the key.
TrainConfig trial_config(const SweepOptions& options, const TrialParams& params, std::size_t index);

// Runs (or continues) the sweep; returns every finished trial. Throws mtag::Error for a bad space, another
// sweep holding the directory, or settings that differ from the directory's sweep.json.
SweepResult run_sweep(const SweepOptions& options, const Dataset& dataset);

// The records ranked best first (trials without a value last), as a table for stdout.
std::string ranking_table(const SweepResult& result);

}  // namespace mtag::data
