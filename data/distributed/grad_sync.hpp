#pragma once
// Gradient averaging for synchronous data parallelism (the part of PyTorch's DistributedDataParallel that
// matters here): the trainable parameters are packed into buckets of about bucket_bytes, in REVERSE
// registration order (the order in which backward() finishes them), and each bucket is summed over the
// ranks with MPI_Iallreduce as soon as all its gradients are final, so communication overlaps the rest
// of the backward pass.
//
// How overlap happens: the model calls on_module_done() after each stage's backward
// (nn::models::TaggingModel::set_backward_observer); a bucket starts once every parameter in it is done
// and every earlier bucket has started (all ranks must issue collectives in the same order). Open MPI
// progresses non-blocking collectives only inside MPI calls, so each on_module_done() also polls the
// pending requests (MPI_Test). finish() starts what is left (stages a frozen block cut off, or a rank
// whose shard of the batch was empty) and waits; only that wait counts as blocked communication.
//
// Weighting: the trainer scales each rank's loss gradient by n_rank / N_global before backward, so the
// plain sum over ranks is the gradient of the mean loss over the global batch, even for unequal shards.
#include "data/distributed/communicator.hpp"
#include "nn/module.hpp"

#include <cstddef>
#include <unordered_map>
#include <vector>

namespace mtag::data::dist {

struct GradSyncOptions {
    std::size_t bucket_bytes = std::size_t{4} << 20;  // float32 bytes per bucket (PyTorch DDP: 25 MiB)
};

class GradientSynchronizer {
  public:
    // `params`: the trainable parameters in registration order (Module::parameters() filtered by
    // requires_grad); their gradients are what gets summed. `comm` must outlive this object.
    GradientSynchronizer(Communicator& comm, std::vector<nn::Parameter*> params, GradSyncOptions options = {});

    // Call before each backward pass: nothing is ready, nothing pending.
    void begin_step();
    // Marks the parameters of `module` (and its children) as final; starts every bucket that became ready.
    void on_module_done(nn::Module& module);
    // Starts the remaining buckets, waits for all, and writes the sums back into the gradients.
    void finish();

    std::size_t bucket_count() const { return m_buckets.size(); }
    // Floats summed per step (all trainable parameters).
    std::size_t floats_per_step() const { return m_total; }
    // Buckets started before finish() in the last step (started while backward was still running).
    std::size_t overlapped_buckets() const { return m_overlapped; }

  private:
    struct Bucket {
        std::vector<std::size_t> params;  // indices into m_params
        std::vector<float> buffer;
        std::size_t pending = 0;  // parameters not yet final in this step
        Request request;
        bool started = false;
    };
    void start_ready();
    void start(Bucket& b);

    Communicator& m_comm;
    std::vector<nn::Parameter*> m_params;
    std::vector<std::size_t> m_bucket_of;  // parameter index -> bucket
    std::vector<char> m_done;              // parameter index -> final this step
    std::unordered_map<const nn::Parameter*, std::size_t> m_index;
    std::vector<Bucket> m_buckets;
    std::vector<Request> m_requests;
    std::size_t m_next_start = 0;  // buckets start in order
    std::size_t m_total = 0;
    std::size_t m_overlapped = 0;
};

// A 64-bit hash of every parameter's bytes (FNV-1a), equal on all ranks exactly when the weights are
// bit-identical.
std::uint64_t parameter_checksum(nn::Module& model);

// Compares parameter_checksum across ranks; throws mtag::Error naming the step and the ranks that differ.
void check_parameters_agree(Communicator& comm, nn::Module& model, std::int64_t step);

// Copies rank `root`'s parameter values and buffers to every rank (the initial weights).
void broadcast_model(Communicator& comm, nn::Module& model, int root = 0);

// Replaces every floating-point buffer (BatchNorm running mean/var) by its average over the ranks, so all
// ranks validate and save the same model although each saw only its shard's batch statistics.
void average_buffers(Communicator& comm, nn::Module& model);

}  // namespace mtag::data::dist
