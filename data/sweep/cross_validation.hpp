#pragma once
// K-fold cross-validation of one training config (`mtag train --folds K`, `mtag sweep --folds K`):
//
//   DIR/fold-1 ... DIR/fold-K   one ordinary run directory per fold (data/sweep/resumable_run.hpp: a rerun
//                               skips finished folds and resumes an interrupted one)
//   DIR/folds.json              at the end: metric, mean, std, every fold's value and run (temporary name,
//                               then rename)
// Folds come from data/sweep/folds.hpp (seeded, stratified on the training split; the test split untouched).
#include "data/sets/dataset.hpp"
#include "data/sweep/folds.hpp"
#include "data/sweep/resumable_run.hpp"
#include "data/train/train_config.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data {

struct CrossValidationOptions {
    std::filesystem::path dir;
    std::size_t folds = 5;
    std::uint64_t seed = 0;                   // fold assignment
    bool quiet = false;                       // one line per fold on stderr
    bool trainer_quiet = true;                // the trainer's epoch lines
    std::string mtag_version;
    const std::atomic<bool>* stop = nullptr;  // Ctrl-C: the fold in progress checkpoints, none is returned
    std::string label;                        // prefix of the progress lines ("trial 3: ")
};

struct CrossValidationResult {
    std::string metric;
    std::vector<RunOutcome> runs;  // one per fold, in fold order
    FoldStatistics statistics;     // over the runs' values
    nlohmann::json to_json(std::size_t folds, std::uint64_t seed) const;
};

// Runs (or continues) the K fold runs of `config` (resolved) and writes DIR/folds.json. None when stopped.
std::optional<CrossValidationResult> cross_validate(const TrainConfig& config, const Dataset& dataset,
                                                    const CrossValidationOptions& options);

// "0.9312 ± 0.0121" (or "-" without a finite value).
std::string format_mean_std(const FoldStatistics& s);

}  // namespace mtag::data
