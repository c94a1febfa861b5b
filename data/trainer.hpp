#pragma once
// The training loop of `mtag train`: a TrainConfig and a Dataset in, a run directory out.
//
//   RUNDIR/model.json + model.safetensors   the best model so far (data/model_card.hpp), rewritten on improvement
//   RUNDIR/checkpoint.safetensors           full state after each epoch (and on interruption): weights, optimizer,
//                                           schedule, early stopping, epoch/batch position; temp file + rename
//   RUNDIR/log.jsonl                        one JSON line per epoch (nn::TrainingState)
//   RUNDIR/config.json                      the resolved TrainConfig
//
// Training examples come from the prefetching BatchLoader (random crops, online augmentation); each epoch
// is validated on the valid split with K evaluation chunks per clip whose sigmoid/softmax outputs are
// averaged (data/chunking.hpp), giving roc_auc_macro and pr_auc_macro (multilabel) or accuracy
// (singlelabel) plus val_loss. Normalisation statistics come from the training split only.
//
// Determinism: batches depend only on (seed, epoch, position) and dropout masks are reseeded from
// (seed, epoch, batch) before every batch, so with one compute thread a resumed run is bit-identical
// to an uninterrupted one (resume continues mid-epoch at the saved batch).
#include "data/dataset.hpp"
#include "data/model_card.hpp"
#include "data/train_config.hpp"
#include "nn/tensor.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

namespace mtag::data {

struct TrainerOptions {
    std::filesystem::path out_dir;
    bool resume = false;                       // continue from out_dir/checkpoint.safetensors
    std::filesystem::path init_from;           // fine-tuning: another run's weights
    int freeze = 0;                            // freeze the first N blocks (their BN in eval)
    bool quiet = false;                        // no progress lines
    std::string mtag_version;                  // written into the card
    const std::atomic<bool>* stop = nullptr;   // set by a signal handler: checkpoint and return
    // Test hook: sees every training batch's inputs before the forward pass (e.g. to inject NaN).
    std::function<void(std::int64_t epoch, std::size_t batch, nn::Tensor& inputs)> batch_hook;
    // Test hook: stop (as if interrupted) before this many batches of the run have been trained (0 = never).
    std::size_t stop_after_batches = 0;
};

struct TrainResult {
    std::int64_t epochs_completed = 0;
    std::int64_t best_epoch = 0;       // 1-based; 0 when never validated
    std::string metric;                // monitored metric
    double best_value = 0;
    std::vector<double> train_losses;  // mean training loss of each epoch of this process
    std::map<std::string, double> last_metrics;
    std::string stop_reason;           // "epochs", "early_stopping", "max_minutes", "interrupted"
    std::size_t skipped_batches = 0;   // non-finite losses skipped (nan_policy skip)
    bool interrupted = false;
    double seconds = 0;
};

// True for a single-label dataset under config.task ("auto": every clip has exactly one tag).
bool is_single_label(const TrainConfig& config, const Dataset& dataset);

// Trains `config` (resolved) on `dataset` into options.out_dir. Throws mtag::Error for bad data or a
// non-finite loss under nan_policy "stop" (naming the epoch and step; the last checkpoint is kept).
TrainResult train(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options);

}  // namespace mtag::data
