#pragma once
// The training loop of `mtag train`: a TrainConfig and a Dataset in, a run directory out.
//
//   RUNDIR/model.json + model.safetensors   the best model so far (data/model_card.hpp), rewritten on improvement
//   RUNDIR/checkpoint.safetensors           full state after each epoch (and on interruption): weights, optimizer,
//                                           schedule, early stopping, epoch/batch position; temp file + rename
//   RUNDIR/log.jsonl                        one JSON line per epoch (nn::TrainingState)
//   RUNDIR/config.json                      the resolved TrainConfig
//   RUNDIR/checkpoints/epoch_NNNN.safetensors  keep_checkpoints K: the weights after each of the last K epochs and
//                                           after the best one (CRC'd, temp + rename), for `mtag model average`
//   RUNDIR/best_ema/                        config ema: the averaged weights (a model directory) of the epoch whose
//                                           ema_<metric> was best; the run's own model stays the raw weights
//
// Modes besides a normal run (TrainerOptions): overfit_batches N trains on the first N batches of the training
// split, the same examples and crops every epoch (no shuffling, no augmentation, dropout off, no early stopping) and stops
// once the epoch's training loss is below overfit_threshold (the sanity check of Karpathy's recipe; Lightning's
// overfit_batches); lr_find runs the learning-rate range test (nn/train/lr_finder.hpp) instead of training and
// writes RUNDIR/lr_find.jsonl (no model, no checkpoint).
//
// Training examples come from the prefetching BatchLoader (random crops, online augmentation); each epoch
// is validated on the valid split with K evaluation chunks per clip whose sigmoid/softmax outputs are
// averaged (data/chunking.hpp), giving roc_auc_macro and pr_auc_macro (multilabel) or accuracy
// (singlelabel) plus val_loss. Normalisation statistics come from the training split only.
//
// Determinism: batches depend only on (seed, epoch, position) and dropout masks are reseeded from
// (seed, epoch, batch) before every batch, so with one compute thread a resumed run is bit-identical
// to an uninterrupted one (resume continues mid-epoch at the saved batch).
//
// Data parallelism (`mpirun -np K mtag train`, TrainerOptions::comm with K > 1): rank 0's initial weights
// are broadcast; every global batch (batch_size examples, the same batches one process would train on) is
// split into K contiguous shards, one per rank; each rank scales its loss gradient by n_rank / batch_size,
// so the sum of the gradients over ranks (bucketed MPI_Iallreduce overlapping backward,
// data/distributed/grad_sync.hpp) is the gradient of the global batch's mean loss; every rank then takes
// the same optimizer step. A parameter checksum is compared every check_every steps and at each epoch end.
// BatchNorm uses each rank's local batch statistics (config sync_batchnorm: the global batch's, summed over
// the ranks by each layer, nn::BatchNormBase::set_stat_reducer); the running statistics are averaged over
// the ranks before each validation. Validation is sharded the same way and the logits are gathered on every rank,
// so all ranks compute the same metrics and take the same early-stopping decisions. Only rank 0 writes
// files (log, model, checkpoints, config); stop signals and the time budget are agreed over all ranks.
#include "data/sets/dataset.hpp"
#include "data/distributed/communicator.hpp"
#include "data/run/model_card.hpp"
#include "data/train/train_config.hpp"
#include "nn/tensor.hpp"
#include "nn/train/lr_finder.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace mtag::data {

// One training step's numbers, for progress within an epoch (TrainerOptions::on_step).
struct StepProgress {
    std::int64_t epoch = 0, epochs = 0;  // 0-based epoch, configured epochs
    std::size_t batch = 0, batches = 0;  // 0-based batch within the epoch, batches per epoch
    std::size_t examples = 0;            // examples of this step (global batch)
    double loss = 0;                     // this step's loss
    bool epoch_end = false;              // the epoch's batches are done (validation follows); other fields: epoch
};

struct TrainerOptions {
    std::filesystem::path out_dir{};
    bool resume = false;                       // continue from out_dir/checkpoint.safetensors
    std::filesystem::path init_from{};         // fine-tuning: another run's weights
    int freeze = 0;                            // freeze the first N blocks (their BN in eval)
    bool quiet = false;                        // no progress lines
    std::string mtag_version{};                // written into the card
    const std::atomic<bool>* stop = nullptr;   // set by a signal handler: checkpoint and return
    // Test hook: sees every training batch's inputs before the forward pass (e.g. to inject NaN).
    std::function<void(std::int64_t epoch, std::size_t batch, nn::Tensor& inputs)> batch_hook{};
    // Progress within an epoch: called on rank 0 after every optimizer step and once when the epoch's
    // batches are done (mtag train draws its progress bar from it; see data/progress).
    std::function<void(const StepProgress&)> on_step{};
    // Test hook: stop (as if interrupted) before this many batches of the run have been trained (0 = never).
    std::size_t stop_after_batches = 0;
    // Data parallelism: the job's communicator (`mtag train` passes the MPI world); null or one rank =
    // ordinary single-process training, unchanged.
    dist::Communicator* comm = nullptr;
    std::size_t bucket_bytes = std::size_t{4} << 20;  // gradient all-reduce bucket size (float32 bytes)
    std::size_t check_every = 100;                    // optimizer steps between cross-rank weight checksums
    // Sanity check: train on the first N batches only (see the header); 0 = a normal run.
    std::size_t overfit_batches = 0;
    double overfit_threshold = 0.05;  // training loss that counts as "near zero"
    // Learning-rate range test instead of training (see the header).
    std::optional<nn::LrFinderOptions> lr_find{};
    // Test hook: sees the model when train() returns (normally or interrupted).
    std::function<void(nn::Module& model)> on_finish{};
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
    // Training-step timing of this process (validation excluded), for `mtag bench mpi`.
    std::size_t steps = 0;              // optimizer steps taken by this process
    double step_seconds = 0;            // wall time of those steps (load, forward, backward, sync, update)
    double comm_wait_seconds = 0;       // part of it blocked in gradient/loss all-reduce (not hidden)
    std::size_t examples_trained = 0;   // global-batch examples trained by this process's steps
    // config ema: the averaged weights' best monitored value and its epoch (1-based; 0 = none yet), last metrics.
    std::int64_t ema_best_epoch = 0;
    double ema_best_value = 0;
    // overfit_batches: whether the epoch training loss fell below the threshold, and the last one.
    bool overfit_reached = false;
    double overfit_final_loss = 0;
    // lr_find: the recorded steps and the suggestion.
    std::vector<nn::LrFinderPoint> lr_find_points;
    nn::LrSuggestion lr_suggestion;
    bool lr_find_diverged = false;
};

// True for a single-label dataset under config.task ("auto": every clip has exactly one tag).
bool is_single_label(const TrainConfig& config, const Dataset& dataset);

// Trains `config` (resolved) on `dataset` into options.out_dir. Throws mtag::Error for bad data or a
// non-finite loss under nan_policy "stop" (naming the epoch and step; the last checkpoint is kept).
TrainResult train(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options);

}  // namespace mtag::data
