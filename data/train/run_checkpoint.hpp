#pragma once
// RUNDIR/checkpoint.safetensors: everything a killed or interrupted `mtag train` needs to continue exactly
// where it stopped: the model's parameters and buffers ("model." + name), the optimizer, schedule and early
// stopping state (nn::TrainingState), and the run's position under the scalar "mtag.run" (next epoch and
// batch, the running loss of the epoch in progress, seconds trained, best epoch, the normalisation
// statistics). Written to a temporary name and renamed (nn::save_checkpoint).
#include "data/pipeline/normalization.hpp"
#include "nn/module.hpp"
#include "nn/train/ema.hpp"
#include "nn/train/training_state.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

namespace mtag::data {

// Where a run stands, as stored in the checkpoint.
struct RunPosition {
    std::int64_t epoch = 0;           // 0-based epoch in progress
    std::size_t batch = 0;            // first batch of `epoch` still to train
    double loss_sum = 0;              // training loss of the epoch so far (sum of batch means)
    std::size_t loss_count = 0;       // batches in loss_sum
    std::size_t examples = 0;         // examples trained by the whole run
    double seconds = 0;               // seconds trained by earlier processes (and this one, when saved)
    std::int64_t best_epoch = 0;
    std::size_t skipped_batches = 0;
    std::int64_t ema_updates = 0;     // config ema: updates folded into the average (tensors "ema.<name>")
    double ema_best = NAN;            // its best monitored value so far (NaN: none)
    std::int64_t ema_best_epoch = 0;
    // Why the run stopped before its last epoch (early_stopping, max_minutes), in the checkpoint of the epoch
    // it stopped at; empty while it runs. A resume from that checkpoint (a kill after it, before the run's
    // last files) ends at once with this reason, as the undisturbed run did, instead of training on.
    std::string stop_reason;
};

struct ResumedRun {
    nn::TrainingCheckpoint checkpoint;
    RunPosition position;
    Normalization normalization;
};

// Writes the checkpoint of `model` and `state` at `position`, with the averaged weights of `ema` when given.
void save_run_checkpoint(const std::filesystem::path& path, const nn::TrainingState& state, nn::Module& model,
                         const RunPosition& position, const Normalization& normalization,
                         const nn::ExponentialMovingAverage* ema = nullptr);

// Reads a checkpoint `mtag train` wrote. When it is missing, truncated or corrupted (checksum) and the
// previous checkpoint (nn::previous_checkpoint_path) is good, says so on stderr and returns that one;
// throws mtag::Error naming the file when neither can be used or the run state is missing.
ResumedRun load_run_checkpoint(const std::filesystem::path& path);
// True when `path` or the previous checkpoint beside it exists (what --resume needs).
bool run_checkpoint_exists(const std::filesystem::path& path);

// Copies the checkpoint's model tensors into `model` (parameters, frozen ones included, and buffers).
void restore_model(nn::Module& model, const nn::TrainingCheckpoint& checkpoint);

}  // namespace mtag::data
