#pragma once
// One optimizer step of `mtag train`, the same code for one process and for each data-parallel rank:
// forward and backward of the batch (this rank's shard of it), the gradients summed over the ranks, the
// non-finite policy, the update.
//
// Data parallelism: every global batch is split into contiguous shards, one per rank; each rank scales its
// loss gradient by n_rank / batch_size, so the sum over ranks (bucketed all-reduce overlapping backward,
// data/distributed/grad_sync.hpp) is the gradient of the global batch's mean loss, and every rank takes the
// same step. The mean loss, non-finite counts and stop requests are agreed in one small all-reduce.
//
// Non-finite loss or gradient: nan_policy "stop" throws naming the epoch, step and batch (the caller keeps
// the last good checkpoint); "skip" leaves the batch out, restoring the BatchNorm running statistics its
// forward pass had already folded in.
#include "data/distributed/communicator.hpp"
#include "data/distributed/grad_sync.hpp"
#include "data/pipeline/batch_loader.hpp"
#include "dsp/error.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/loss.hpp"
#include "nn/models/tagging_model.hpp"
#include "nn/train/training_state.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace mtag::data {

// A non-finite loss or gradient under nan_policy "stop" (mtag train diagnoses it: learning rate too high).
class NonFiniteLoss : public Error {
  public:
    using Error::Error;
};

struct TrainStepOptions {
    std::uint64_t seed = 0;           // dropout masks are reseeded from (seed, epoch, batch) before every batch
    bool skip_non_finite = false;     // nan_policy "skip"
    bool sync_batchnorm = false;      // BN backward holds collectives: every rank must run it
    bool single_label = false;        // softmax cross-entropy, else BCE with logits
    double label_smoothing = 0;       // either loss's label_smoothing (nn/loss.hpp states the BCE convention)
    std::size_t n_tags = 0;
    bool quiet = false;               // no warning lines for skipped batches
    std::filesystem::path checkpoint; // named in the error for a non-finite loss
    std::size_t check_every = 100;    // data-parallel: optimizer steps between cross-rank weight checksums
    const std::atomic<bool>* stop = nullptr;  // data-parallel: a rank's stop request, agreed with the step
    // Test hook: sees every training batch's inputs before the forward pass.
    std::function<void(std::int64_t epoch, std::size_t batch, nn::Tensor& inputs)> batch_hook;
};

// What one step did.
struct StepOutcome {
    bool skipped = false;       // a non-finite loss or gradient under nan_policy "skip"
    double loss = 0;            // mean loss over the global batch (when not skipped)
    std::size_t examples = 0;   // examples of the global batch (when not skipped)
};

class TrainStep {
  public:
    // `comm` and `sync` are null for one process; `sync` must cover every trainable parameter.
    TrainStep(nn::models::TaggingModel& model, nn::TrainingState& state, TrainStepOptions options,
              dist::Communicator* comm = nullptr, dist::GradientSynchronizer* sync = nullptr);

    // Trains one batch (global batch position `b` of 0-based `epoch`). Throws mtag::Error for a non-finite
    // loss or gradient unless skipping.
    StepOutcome run(const Batch& batch, std::int64_t epoch, std::size_t b);

    // Data-parallel: whether any rank asked to stop (agreed during the last step).
    bool stop_agreed() const { return m_stop_agreed; }
    // Data-parallel: seconds this process spent blocked in the gradient and loss all-reduce.
    double comm_wait_seconds() const { return m_comm_wait; }

  private:
    void seed_dropouts(std::int64_t epoch, std::size_t b);
    // Forward and backward of this process's examples; returns the loss (summed over them when
    // data-parallel, mean otherwise) and whether it was finite.
    std::pair<double, bool> forward_backward(const Batch& batch, std::int64_t epoch, std::size_t b);
    [[noreturn]] void throw_non_finite(const std::string& what, std::int64_t epoch, std::size_t b) const;

    nn::models::TaggingModel& m_model;
    nn::TrainingState& m_state;
    TrainStepOptions m_options;
    dist::Communicator* m_comm;
    dist::GradientSynchronizer* m_sync;
    std::vector<nn::Dropout*> m_dropouts;
    nn::BCEWithLogitsLoss m_bce;
    nn::CrossEntropyLoss m_ce;
    bool m_stop_agreed = false;
    double m_comm_wait = 0;
};

}  // namespace mtag::data
