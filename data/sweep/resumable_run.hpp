#pragma once
// One training run that a sweep or a cross-validation can be killed in and rerun: finished runs are never
// repeated, interrupted ones continue from their checkpoint (the trainer's --resume), runs that never reached
// a checkpoint start again from scratch.
//
//   DIR/outcome.json   written (temporary name, then rename) once train() has returned without being
//                      interrupted: the best value of the monitored metric and how the run ended. Its presence
//                      is what "finished" means; a rerun reads it instead of training.
//   DIR/checkpoint.safetensors, model.json, log.jsonl, config.json: the trainer's (data/train/trainer.hpp).
#include "data/sets/dataset.hpp"
#include "data/train/train_config.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>

namespace mtag::data {

// How a finished run ended.
struct RunOutcome {
    std::string metric;            // the monitored metric (roc_auc_macro, ...)
    std::optional<double> value;   // its best value; none when no epoch gave a finite one
    std::int64_t best_epoch = 0;
    std::int64_t epochs_completed = 0;
    std::string stop_reason;       // epochs | early_stopping | max_minutes
    double seconds = 0;            // training seconds over every process that worked on it
    bool resumed = false;          // this process continued a checkpoint (not saved)
    bool cached = false;           // read from outcome.json: this process did not train (not saved)

    nlohmann::json to_json() const;
    static RunOutcome from_json(const nlohmann::json& j, const std::string& where);
};

struct ResumableRunOptions {
    std::filesystem::path dir;
    bool quiet = true;                        // the trainer's epoch lines
    std::string mtag_version;
    const std::atomic<bool>* stop = nullptr;  // Ctrl-C: the trainer checkpoints and returns
};

// The outcome in `dir` when the run there has finished; none otherwise.
std::optional<RunOutcome> finished_outcome(const std::filesystem::path& dir);

// Trains `config` (resolved) on `dataset` into options.dir unless it has finished already: resumes from its
// checkpoint when there is one, else starts afresh (an unfinished directory without a checkpoint is cleared
// first). Returns none when stopped by options.stop (the checkpoint is saved; a rerun continues).
std::optional<RunOutcome> run_to_completion(const TrainConfig& config, const Dataset& dataset,
                                            const ResumableRunOptions& options);

// Writes `text` to `path` through a temporary name in the same folder and a rename (nothing partial under
// the final name, even after kill -9); a temporary of the same file left by a dead process is removed first.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace mtag::data
