#include "data/pipeline/batch_loader.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <chrono>
#include <new>
#include <numeric>
#include <random>

namespace mtag::data {

void BatchLoaderOptions::validate() const {
    if (batch_size == 0) throw Error("batch loader", "batch_size must be >= 1");
    if (workers < 1) throw Error("batch loader", "workers must be >= 1, got " + std::to_string(workers));
    if (prefetch == 0) throw Error("batch loader", "prefetch must be >= 1");
    if (repeats == 0) throw Error("batch loader", "repeats (crops per clip per epoch) must be >= 1");
    if (shard_count == 0 || shard_index >= shard_count)
        throw Error("batch loader", "shard_index " + std::to_string(shard_index) + " is not below shard_count " +
                                        std::to_string(shard_count));
}

std::uint64_t example_seed(std::uint64_t seed, std::uint64_t epoch, std::uint64_t position) {
    // SplitMix64 finaliser over a combination of the three; ref: Steele, Lea & Flood 2014
    auto mix = [](std::uint64_t z) {
        z += 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    return mix(mix(mix(seed) ^ epoch) ^ position);
}

std::vector<std::size_t> epoch_order(std::size_t count, std::size_t repeats, std::uint64_t seed,
                                     std::uint64_t epoch, bool shuffle) {
    std::vector<std::size_t> order(count * repeats);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (shuffle) {
        std::mt19937_64 rng(example_seed(seed, epoch, ~std::uint64_t{0}));
        std::shuffle(order.begin(), order.end(), rng);
    }
    return order;
}

BatchLoader::BatchLoader(const Dataset& dataset, std::vector<std::size_t> clip_indices, SampleFn make_sample,
                         BatchLoaderOptions options)
    : m_dataset(dataset),
      m_clips(std::move(clip_indices)),
      m_make_sample(std::move(make_sample)),
      m_options(options) {
    m_options.validate();
    if (m_clips.empty()) throw Error("batch loader", "no clips to load (is the split empty?)");
    for (std::size_t i : m_clips)
        if (i >= dataset.clips.size())
            throw Error("batch loader", "clip index " + std::to_string(i) + " out of range (" +
                                            std::to_string(dataset.clips.size()) + " clips)");
    if (!m_make_sample) throw Error("batch loader", "no sample function");
    m_failed.assign(dataset.clips.size(), false);
    for (int w = 0; w < m_options.workers; ++w) m_workers.emplace_back([this] { worker_loop(); });
}

BatchLoader::~BatchLoader() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_work_ready.notify_all();
    for (std::thread& t : m_workers) t.join();
}

std::size_t BatchLoader::batches_per_epoch() const {
    const std::size_t n = m_clips.size() * m_options.repeats;
    return m_options.drop_last ? n / m_options.batch_size
                               : (n + m_options.batch_size - 1) / m_options.batch_size;
}

void BatchLoader::start_epoch(std::uint64_t epoch) {
    auto order = std::make_shared<const std::vector<std::size_t>>(
        epoch_order(m_clips.size(), m_options.repeats, m_options.seed, epoch, m_options.shuffle));
    {
        std::lock_guard lock(m_mutex);
        ++m_generation;
        m_epoch = epoch;
        m_order = std::move(order);
        m_n_batches = batches_per_epoch();
        m_next_claim = 0;
        m_next_consume = 0;
        m_ready.clear();
        m_error = nullptr;
        m_delivered = 0;
        m_epoch_failures.clear();
        std::fill(m_failed.begin(), m_failed.end(), false);
        m_active = true;
    }
    m_work_ready.notify_all();
}

std::optional<Batch> BatchLoader::next() {
    std::unique_lock lock(m_mutex);
    if (!m_active) throw Error("batch loader", "next() before start_epoch()");
    while (m_next_consume < m_n_batches) {
        const auto start = std::chrono::steady_clock::now();
        m_batch_ready.wait(lock, [&] { return m_error || m_ready.count(m_next_consume) > 0; });
        m_wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (m_error) std::rethrow_exception(m_error);
        auto node = m_ready.extract(m_next_consume);
        ++m_next_consume;
        Batch& batch = node.mapped();
        for (const ClipFailure& failure : batch.failures) {
            if (m_failed[failure.clip_index]) continue;
            m_failed[failure.clip_index] = true;
            m_epoch_failures.push_back(failure);
        }
        m_delivered += batch.size();
        m_work_ready.notify_one();  // a slot in the window is free
        if (batch.size() == 0) continue;  // every example failed: nothing to deliver
        lock.unlock();
        return std::move(batch);
    }
    if (m_delivered == 0 && !m_epoch_failures.empty()) {
        const ClipFailure& first = m_epoch_failures.front();
        throw Error("batch loader, epoch " + std::to_string(m_epoch),
                    "every clip failed (" + std::to_string(m_epoch_failures.size()) + " clips), e.g. '" +
                        first.path.string() + "': " + first.reason);
    }
    return std::nullopt;
}

std::vector<ClipFailure> BatchLoader::epoch_failures() const {
    std::lock_guard lock(m_mutex);
    return m_epoch_failures;
}

double BatchLoader::wait_seconds() const {
    std::lock_guard lock(m_mutex);
    return m_wait_seconds;
}

void BatchLoader::worker_loop() {
    Sample sample;
    while (true) {
        std::uint64_t generation = 0, epoch = 0;
        std::size_t index = 0;
        std::shared_ptr<const std::vector<std::size_t>> order;
        {
            std::unique_lock lock(m_mutex);
            // Claim a batch only inside the window [next_consume, next_consume + prefetch): bounded memory.
            m_work_ready.wait(lock, [&] {
                return m_stop || (m_active && !m_error && m_next_claim < m_n_batches &&
                                  m_next_claim < m_next_consume + m_options.prefetch);
            });
            if (m_stop) return;
            generation = m_generation;
            epoch = m_epoch;
            index = m_next_claim++;
            order = m_order;
        }
        Batch batch;
        try {
            build_batch(epoch, index, *order, sample, batch);
        } catch (...) {
            std::lock_guard lock(m_mutex);
            if (generation == m_generation && !m_error) m_error = std::current_exception();
            m_batch_ready.notify_all();
            continue;
        }
        {
            std::lock_guard lock(m_mutex);
            if (generation != m_generation) continue;  // the epoch was restarted meanwhile
            m_ready.emplace(index, std::move(batch));
        }
        m_batch_ready.notify_all();
    }
}

void BatchLoader::build_batch(std::uint64_t epoch, std::size_t index, const std::vector<std::size_t>& order,
                              Sample& sample, Batch& batch) const {
    const std::size_t global_begin = index * m_options.batch_size;
    const std::size_t global_end = std::min(order.size(), global_begin + m_options.batch_size);
    // This shard's part of the batch: the same split as data/distributed/communicator.hpp shard_range().
    const std::size_t count = global_end - global_begin, k = m_options.shard_count, r = m_options.shard_index;
    const std::size_t begin = global_begin + r * (count / k) + std::min(r, count % k);
    const std::size_t end = begin + count / k + (r < count % k ? 1 : 0);
    batch.epoch = epoch;
    batch.index = index;
    batch.global_size = count;
    batch.shard_offset = begin - global_begin;
    batch.n_tags = m_dataset.vocabulary.size();
    batch.clip_indices.reserve(end - begin);
    batch.targets.reserve((end - begin) * batch.n_tags);
    for (std::size_t p = begin; p < end; ++p) {
        const std::size_t clip_index = m_clips[order[p] / m_options.repeats];
        const Clip& clip = m_dataset.clips[clip_index];
        const SampleContext context{clip_index, epoch, order[p] % m_options.repeats,
                                    example_seed(m_options.seed, epoch, p)};
        sample.target.clear();
        if (m_options.skip_failures) {
            try {
                m_make_sample(clip, context, sample);
            } catch (const std::bad_alloc&) {
                throw;  // not the clip's fault
            } catch (const std::exception& e) {
                batch.failures.push_back({clip_index, clip.audio_path, e.what()});
                continue;
            }
        } else {
            m_make_sample(clip, context, sample);
        }
        if (batch.clip_indices.empty()) {
            batch.bins = sample.input.rows;
            batch.frames = sample.input.cols;
            batch.inputs.reserve((end - begin) * sample.input.size());
        } else if (sample.input.rows != batch.bins || sample.input.cols != batch.frames) {
            throw Error("batch loader, clip '" + clip.id + "'",
                        "input shaped [" + std::to_string(sample.input.rows) + ", " +
                            std::to_string(sample.input.cols) + "], the batch's first example is [" +
                            std::to_string(batch.bins) + ", " + std::to_string(batch.frames) +
                            "] (crop or pad to the model's input length)");
        }
        batch.clip_indices.push_back(clip_index);
        batch.inputs.insert(batch.inputs.end(), sample.input.data.begin(), sample.input.data.end());
        if (sample.target.empty()) {
            batch.targets.insert(batch.targets.end(), clip.tags.begin(), clip.tags.end());
        } else {
            batch.targets.insert(batch.targets.end(), sample.target.begin(), sample.target.end());
        }
    }
}

}  // namespace mtag::data
