#pragma once
// Batches for training and evaluation: a seeded shuffle per epoch, and worker threads that build whole
// batches ahead of the trainer (decode -> augment -> features -> crop, through a SampleFn) into a
// bounded window, so the trainer does not wait when there are cores to spare and memory stays flat.
//
// Determinism: the order of an epoch depends only on (seed, epoch), and every example gets its own
// seed from (seed, epoch, position in the epoch), so the batches are identical whatever the number of
// workers and however the threads are scheduled. Batches are delivered in order.
//
// Unreadable clips: when the SampleFn throws for an example (a missing, truncated or corrupt file, a
// failed augmentation), the example is left out and its batch is delivered smaller, rather than
// refilled from other positions: a refill would make batch i depend on the failures of the batches
// built before it, so the batches would depend on thread scheduling. Dropping keeps them a function
// of (seed, data, epoch) alone, on any number of workers. A batch whose examples all failed is not
// delivered. Each failing clip is reported once per epoch (epoch_failures(), in the order the epoch
// met them) with its path and reason; when no example of an epoch could be built, next() throws.
#include "data/sets/dataset.hpp"
#include "dsp/matrix.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mtag::data {

// Where an example comes from, for the SampleFn.
struct SampleContext {
    std::size_t clip_index = 0;  // into Dataset::clips
    std::uint64_t epoch = 0;
    std::size_t repeat = 0;  // which of the clip's crops in this epoch (0 .. repeats-1)
    std::uint64_t seed = 0;  // this example's own seed (crop offsets, augmentation)
};

// One example: the model input ([bins, frames] features, or [1, samples] for a waveform) and targets.
struct Sample {
    dsp::FloatMatrix input;
    std::vector<float> target;
};

// Builds one example. Called concurrently from the worker threads, so it must be thread-safe; it may
// reuse `out`'s buffers. Throws mtag::Error for a clip it cannot read.
using SampleFn = std::function<void(const Clip& clip, const SampleContext& context, Sample& out)>;

// A clip left out of a batch because its SampleFn threw (decode or augmentation failure).
struct ClipFailure {
    std::size_t clip_index = 0;
    std::filesystem::path path;
    std::string reason;  // the exception's message
};

// Examples stacked along a leading batch axis: inputs [size, bins, frames], targets [size, n_tags].
struct Batch {
    std::uint64_t epoch = 0;
    std::size_t index = 0;                  // batch number within the epoch
    std::vector<std::size_t> clip_indices;  // one per example
    std::vector<float> inputs;
    std::vector<float> targets;
    std::size_t bins = 0;
    std::size_t frames = 0;
    std::size_t n_tags = 0;
    std::size_t global_size = 0;   // examples in the whole batch across shards (== size() unsharded)
    std::size_t shard_offset = 0;  // position of this shard's first example within the whole batch
    std::vector<ClipFailure> failures;  // examples of this batch's positions that were left out

    std::size_t size() const { return clip_indices.size(); }
};

struct BatchLoaderOptions {
    std::size_t batch_size = 16;
    int workers = 2;           // threads building batches (>= 1)
    std::size_t prefetch = 4;  // batches ready or being built ahead of the consumer (>= 1)
    bool shuffle = true;       // false: dataset order (evaluation)
    bool drop_last = false;    // drop a final batch smaller than batch_size
    std::size_t repeats = 1;   // examples per clip per epoch (several random crops of one clip)
    std::uint64_t seed = 0;
    // Data parallelism: each batch of batch_size examples (the global batch) is split into shard_count
    // contiguous shards (sizes differ by at most one) and this loader builds only shard shard_index. The
    // examples, their order and their seeds are those of the unsharded loader, so K shards together are
    // exactly the batches one loader delivers. A shard may be empty (a last batch smaller than K).
    std::size_t shard_index = 0;
    std::size_t shard_count = 1;
    bool skip_failures = true;  // leave out examples whose SampleFn throws (false: next() rethrows)

    // Throws mtag::Error for a zero batch size, workers, prefetch or repeats.
    void validate() const;
};

// The order of an epoch: every position of `count` clips x `repeats`, shuffled by (seed, epoch) when
// `shuffle`; entries are indices into the loader's clip list times repeats (position / repeats is
// the clip, position % repeats the repeat).
std::vector<std::size_t> epoch_order(std::size_t count, std::size_t repeats, std::uint64_t seed,
                                     std::uint64_t epoch, bool shuffle);

// A seed for one example, mixed from the run seed, the epoch and the example's position (SplitMix64).
std::uint64_t example_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t position);

class BatchLoader {
  public:
    // `clip_indices` selects the clips (e.g. dataset.indices(Split::train)); `dataset` must outlive
    // the loader. Throws mtag::Error for invalid options or an empty selection.
    BatchLoader(const Dataset& dataset, std::vector<std::size_t> clip_indices, SampleFn make_sample,
                BatchLoaderOptions options);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    std::size_t batches_per_epoch() const;
    // Starts building the batches of `epoch`; a running epoch is abandoned.
    void start_epoch(std::uint64_t epoch);
    // The next batch of the current epoch, in order; nullopt when the epoch is done. Batches whose
    // examples all failed are skipped. Rethrows the first error a worker met that is not a skipped clip
    // failure (e.g. inconsistent input shapes), and throws mtag::Error at the end of an epoch in which
    // every example failed.
    std::optional<Batch> next();
    // The clips that failed so far in the current epoch, once each, in the order their batches were
    // delivered (complete once next() returned nullopt). Deterministic like the batches.
    std::vector<ClipFailure> epoch_failures() const;
    // Seconds the consumer spent blocked in next() since construction: near 0 means workers keep up.
    double wait_seconds() const;

  private:
    void worker_loop();
    void build_batch(std::uint64_t epoch, std::size_t index, const std::vector<std::size_t>& order,
                     Sample& sample, Batch& batch) const;

    const Dataset& m_dataset;
    std::vector<std::size_t> m_clips;
    SampleFn m_make_sample;
    BatchLoaderOptions m_options;

    mutable std::mutex m_mutex;
    std::condition_variable m_work_ready;   // workers wait for a batch to claim
    std::condition_variable m_batch_ready;  // the consumer waits for the next batch
    bool m_stop = false;
    bool m_active = false;
    std::uint64_t m_generation = 0;  // bumps on start_epoch; stale work is discarded
    std::uint64_t m_epoch = 0;
    std::shared_ptr<const std::vector<std::size_t>> m_order;
    std::size_t m_n_batches = 0;
    std::size_t m_next_claim = 0;
    std::size_t m_next_consume = 0;
    std::map<std::size_t, Batch> m_ready;
    std::size_t m_delivered = 0;                 // examples delivered in the current epoch
    std::vector<ClipFailure> m_epoch_failures;   // once per clip, in delivery order
    std::vector<bool> m_failed;                  // by dataset clip index: already in m_epoch_failures
    std::exception_ptr m_error;
    double m_wait_seconds = 0.0;
    std::vector<std::thread> m_workers;
};

}  // namespace mtag::data
