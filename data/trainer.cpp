#include "data/trainer.hpp"

#include "data/batch_loader.hpp"
#include "data/clip_pipeline.hpp"
#include "data/distributed/grad_sync.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/error.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"
#include "nn/models/zoo.hpp"
#include "nn/model_io.hpp"
#include "nn/threads.hpp"
#include "nn/train/training_state.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace mtag::data {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string format_duration(double s) {
    const auto total = static_cast<long long>(std::max(0.0, s));
    char buf[32];
    if (total >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total / 60) % 60);
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
    return buf;
}

// Raw-audio examples for sample-level models: [1, samples] per example, cropped like the clip pipeline.
SampleFn make_waveform_sample_fn(int sample_rate, ChunkOptions chunking, bool train, const dsp::AugmentPipeline* augment,
                                 const Normalization* normalization, WaveformCache* waveforms) {
    return [=](const Clip& clip, const SampleContext& context, Sample& out) {
        std::mt19937_64 rng(context.seed);
        const WaveformCache::Waveform audio = waveforms->get(clip.audio_path);
        const std::size_t length = chunking.length;
        const std::size_t offset = train ? random_crop_offsets(audio->size(), length, 1, rng)[0] : [&] {
            const auto offsets = eval_chunk_offsets(audio->size(), chunking);
            return offsets[context.repeat % offsets.size()];
        }();
        std::vector<float> window(length, 0.0f);
        copy_chunk(*audio, offset, window);
        if (train && augment) {
            window = augment->apply(window, sample_rate, context.seed, context.clip_index, context.epoch).audio;
            window.resize(length, 0.0f);
        }
        if (normalization) normalization->apply(std::span<float>(window));
        out.input.resize(1, length);
        std::copy(window.begin(), window.end(), out.input.data.begin());
    };
}

// Clips a loader left out of an epoch (unreadable or failed augmentation): one line each on stderr and
// one JSON line {"event": "skipped_clips", ...} in the training log, before the epoch's own line.
void report_skipped_clips(const std::vector<ClipFailure>& failures, std::int64_t epoch, const std::string& split,
                          const std::filesystem::path& log_path, bool quiet) {
    if (failures.empty()) return;
    nlohmann::json clips = nlohmann::json::array();
    for (const ClipFailure& f : failures) {
        clips.push_back({{"path", f.path.string()}, {"reason", f.reason}});
        if (!quiet)
            std::cerr << "warning: epoch " << epoch + 1 << ", " << split << ": skipped '" << f.path.string()
                      << "': " << f.reason << "\n";
    }
    std::ofstream log(log_path, std::ios::app);
    log << nlohmann::json{{"event", "skipped_clips"}, {"epoch", epoch + 1}, {"split", split}, {"clips", clips}}.dump()
        << "\n";
}

// Every Dropout module of a tree, in a fixed (depth-first) order.
void collect_dropouts(nn::Module& m, std::vector<nn::Dropout*>& out) {
    if (auto* d = dynamic_cast<nn::Dropout*>(&m)) out.push_back(d);
    for (const auto& [name, child] : m.children()) collect_dropouts(*child, out);
}

// Every BatchNorm layer of the tree.
void collect_batchnorms(nn::Module& m, std::vector<nn::BatchNormBase*>& out) {
    if (auto* bn = dynamic_cast<nn::BatchNormBase*>(&m)) out.push_back(bn);
    for (const auto& [name, child] : m.children()) collect_batchnorms(*child, out);
}

// True when the tree holds a module of type M.
template <class M>
bool has_module(nn::Module& m) {
    if (dynamic_cast<M*>(&m)) return true;
    for (const auto& [name, child] : m.children())
        if (has_module<M>(*child)) return true;
    return false;
}

std::vector<std::int64_t> argmax_rows(std::span<const float> values, std::size_t cols) {
    std::vector<std::int64_t> out(values.size() / cols);
    for (std::size_t r = 0; r < out.size(); ++r) {
        const float* row = values.data() + r * cols;
        out[r] = std::max_element(row, row + cols) - row;
    }
    return out;
}

bool all_finite(nn::Module& model) {
    for (nn::Parameter* p : model.parameters()) {
        if (!p->requires_grad) continue;
        const float* g = p->grad.data();
        for (std::int64_t i = 0; i < p->grad.shape().numel(); ++i)
            if (!std::isfinite(g[i])) return false;
    }
    return true;
}

// BatchNorm running statistics (every buffer) before a step, so that a batch skipped for a non-finite loss
// leaves no trace in them: its forward pass already folded its (NaN) batch statistics in.
std::vector<nn::Tensor> snapshot_buffers(nn::Module& model) {
    std::vector<nn::Tensor> out;
    for (nn::Buffer* b : model.buffers()) out.push_back(b->value.clone());
    return out;
}

void restore_buffers(nn::Module& model, const std::vector<nn::Tensor>& saved) {
    const auto buffers = model.buffers();
    for (std::size_t i = 0; i < buffers.size() && i < saved.size(); ++i) buffers[i]->value.copy_from(saved[i]);
}

// Copies every parameter and buffer of `from` whose name and shape exist in `to`, except the names in
// `skip_prefix` (the output layer when the vocabulary differs). Returns the copied parameters of `to`.
std::vector<nn::Parameter*> transfer_weights(nn::Module& from, nn::Module& to, const std::string& skip_prefix) {
    std::map<std::string, nn::Tensor*> source;
    for (nn::Parameter* p : from.parameters()) source[p->name] = &p->value;
    for (nn::Buffer* b : from.buffers()) source[b->name] = &b->value;
    auto skipped = [&](const std::string& name) { return !skip_prefix.empty() && name.rfind(skip_prefix + ".", 0) == 0; };
    std::vector<nn::Parameter*> copied;
    for (nn::Parameter* p : to.parameters()) {
        auto it = source.find(p->name);
        if (skipped(p->name) || it == source.end()) continue;
        if (!(it->second->shape() == p->value.shape()))
            throw Error("--init-from", "parameter '" + p->name + "' has shape " + it->second->shape().str() + ", expected " +
                                           p->value.shape().str() + " (same preset and options needed)");
        p->value.copy_from(*it->second);
        copied.push_back(p);
    }
    for (nn::Buffer* b : to.buffers()) {
        auto it = source.find(b->name);
        if (!skipped(b->name) && it != source.end() && it->second->shape() == b->value.shape()) b->value.copy_from(*it->second);
    }
    return copied;
}

// A training batch's loss (softmax cross-entropy for single-label data, else BCE with logits) and its
// gradient with respect to the logits.
std::pair<double, nn::Tensor> loss_and_gradient(const nn::Tensor& logits, const Batch& batch, bool single,
                                                std::size_t n_tags, nn::CrossEntropyLoss& ce,
                                                nn::BCEWithLogitsLoss& bce) {
    if (single) {
        const double loss = ce.forward(logits, argmax_rows(batch.targets, n_tags));
        return {loss, ce.backward()};
    }
    const auto n = static_cast<std::int64_t>(batch.size());
    const double loss = bce.forward(logits, nn::Tensor::from({n, static_cast<std::int64_t>(n_tags)}, batch.targets));
    return {loss, bce.backward()};
}

using ClipLogits = std::map<std::size_t, std::vector<float>>;  // dataset clip index -> its chunks' logits

// Metrics of a validation pass from each clip's chunk logits and the summed batch losses. Clips without
// logits (unreadable files the loader left out) are left out of the metrics too.
std::map<std::string, double> validation_metrics(const ClipLogits& logits, double loss_sum, std::size_t loss_batches,
                                                 const Dataset& dataset, const std::vector<std::size_t>& clips,
                                                 bool single, std::size_t n_tags) {
    std::vector<float> scores, labels;
    std::size_t scored = 0;
    for (std::size_t clip : clips) {
        const auto it = logits.find(clip);
        if (it == logits.end()) continue;
        const auto s = average_chunk_scores(it->second, it->second.size() / n_tags,
                                            single ? ChunkActivation::softmax : ChunkActivation::sigmoid);
        scores.insert(scores.end(), s.begin(), s.end());
        const auto t = dataset.targets(clip);
        labels.insert(labels.end(), t.begin(), t.end());
        ++scored;
    }
    std::map<std::string, double> m;
    m["val_loss"] = loss_batches ? loss_sum / loss_batches : 0.0;
    const nn::ConstMatrixView sv{scores, scored, n_tags}, lv{labels, scored, n_tags};
    if (single) {
        std::vector<std::int32_t> targets;
        for (auto v : argmax_rows(labels, n_tags)) targets.push_back(static_cast<std::int32_t>(v));
        m["accuracy"] = nn::accuracy(sv, targets);
    }
    const nn::TaggingMetrics t = nn::tagging_metrics(sv, lv);
    m["roc_auc_macro"] = t.macro_roc_auc;
    m["pr_auc_macro"] = t.macro_average_precision;
    return m;
}

// Validation pass: K chunks per clip, averaged after sigmoid/softmax.
std::map<std::string, double> validate(nn::models::TaggingModel& model, BatchLoader& loader, const Dataset& dataset,
                                       const std::vector<std::size_t>& clips, bool single, std::size_t n_tags) {
    model.eval();
    ClipLogits logits;
    double loss_sum = 0;
    std::size_t loss_batches = 0;
    loader.start_epoch(0);
    nn::BCEWithLogitsLoss bce;
    nn::CrossEntropyLoss ce;
    while (auto batch = loader.next()) {
        const nn::Tensor x = nn::Tensor::from(model.input_shape(static_cast<std::int64_t>(batch->size())), batch->inputs);
        const nn::Tensor y = model.forward(x);
        const auto n = static_cast<std::int64_t>(batch->size());
        if (single) loss_sum += ce.forward(y, argmax_rows(batch->targets, n_tags));
        else loss_sum += bce.forward(y, nn::Tensor::from({n, static_cast<std::int64_t>(n_tags)}, batch->targets));
        ++loss_batches;
        for (std::size_t e = 0; e < batch->size(); ++e)
            logits[batch->clip_indices[e]].insert(logits[batch->clip_indices[e]].end(), y.data() + e * n_tags,
                                                  y.data() + (e + 1) * n_tags);
    }
    model.train();
    return validation_metrics(logits, loss_sum, loss_batches, dataset, clips, single, n_tags);
}

// Validation over ranks: each rank runs its shard of every batch, the logits are gathered on every rank in
// the order one process would produce them, and the per-batch losses are computed from them, so every rank
// gets the same metrics as a single process would (up to float rounding of the forward passes).
std::map<std::string, double> validate_distributed(nn::models::TaggingModel& model, BatchLoader& loader,
                                                   const Dataset& dataset, const std::vector<std::size_t>& clips,
                                                   std::size_t chunks, bool single, std::size_t n_tags,
                                                   std::size_t batch_size, dist::Communicator& comm) {
    model.eval();
    std::vector<float> local;
    loader.start_epoch(0);
    while (auto batch = loader.next()) {
        if (batch->size() == 0) continue;
        const nn::Tensor x = nn::Tensor::from(model.input_shape(static_cast<std::int64_t>(batch->size())), batch->inputs);
        const nn::Tensor y = model.forward(x);
        local.insert(local.end(), y.data(), y.data() + y.shape().numel());
    }
    model.train();
    const std::vector<std::string> parts = comm.allgather(
        std::string(reinterpret_cast<const char*>(local.data()), local.size() * sizeof(float)), "validation gather");
    const std::size_t total = clips.size() * chunks;
    std::vector<float> logits(total * n_tags);
    std::vector<std::size_t> cursor(parts.size(), 0);
    double loss_sum = 0;
    std::size_t loss_batches = 0;
    nn::BCEWithLogitsLoss bce;
    nn::CrossEntropyLoss ce;
    for (std::size_t begin = 0; begin < total; begin += batch_size) {
        const std::size_t count = std::min(batch_size, total - begin);
        for (std::size_t r = 0; r < parts.size(); ++r) {
            const auto [lo, hi] = dist::shard_range(count, static_cast<int>(r), static_cast<int>(parts.size()));
            const std::size_t bytes = (hi - lo) * n_tags * sizeof(float);
            if (cursor[r] + bytes > parts[r].size())
                throw Error("data-parallel validation", "rank " + std::to_string(r) + " sent fewer logits than expected");
            std::memcpy(logits.data() + (begin + lo) * n_tags, parts[r].data() + cursor[r], bytes);
            cursor[r] += bytes;
        }
        std::vector<float> targets;
        targets.reserve(count * n_tags);
        for (std::size_t p = begin; p < begin + count; ++p) {
            const auto t = dataset.targets(clips[p / chunks]);
            targets.insert(targets.end(), t.begin(), t.end());
        }
        const auto n = static_cast<std::int64_t>(count);
        const nn::Tensor y = nn::Tensor::from({n, static_cast<std::int64_t>(n_tags)},
                                              std::span<const float>(logits).subspan(begin * n_tags, count * n_tags));
        if (single) loss_sum += ce.forward(y, argmax_rows(targets, n_tags));
        else loss_sum += bce.forward(y, nn::Tensor::from({n, static_cast<std::int64_t>(n_tags)}, targets));
        ++loss_batches;
    }
    ClipLogits by_clip;
    for (std::size_t c = 0; c < clips.size(); ++c)
        by_clip[clips[c]].assign(logits.begin() + static_cast<std::ptrdiff_t>(c * chunks * n_tags),
                                 logits.begin() + static_cast<std::ptrdiff_t>((c + 1) * chunks * n_tags));
    return validation_metrics(by_clip, loss_sum, loss_batches, dataset, clips, single, n_tags);
}

}  // namespace

bool is_single_label(const TrainConfig& config, const Dataset& dataset) {
    if (config.task == "singlelabel") return true;
    if (config.task == "multilabel") return false;
    if (dataset.format == "gtzan") return true;
    for (const Clip& c : dataset.clips)
        if (std::count(c.tags.begin(), c.tags.end(), std::uint8_t{1}) != 1) return false;
    return !dataset.clips.empty();
}

TrainResult train(const TrainConfig& config, const Dataset& dataset, const TrainerOptions& options) {
    const auto t_start = Clock::now();
    namespace fs = std::filesystem;
    // Data parallelism (see the header): dp is false for one process, whatever the build.
    dist::Communicator* comm = options.comm && options.comm->distributed() ? options.comm : nullptr;
    const bool dp = comm != nullptr;
    const int rank = dp ? comm->rank() : 0, ranks = dp ? comm->size() : 1;
    const bool root = rank == 0;
    const bool quiet = options.quiet || !root;  // progress lines from rank 0 only
    const fs::path out = options.out_dir;
    fs::create_directories(out);
    const fs::path checkpoint_path = out / "checkpoint.safetensors";
    if (options.resume && !fs::exists(checkpoint_path))
        throw Error("--resume", "no checkpoint in " + out.string() + " (expected " + checkpoint_path.string() + ")");
    if (!options.resume && fs::exists(checkpoint_path))
        throw Error("--out " + out.string(), "already holds a run (checkpoint.safetensors); use --resume or another directory");

    const std::vector<std::size_t> train_clips = dataset.indices(Split::train);
    const std::vector<std::size_t> valid_clips = dataset.indices(Split::valid);
    if (train_clips.empty()) throw Error("dataset " + dataset.source.string(), "has no training clips");
    if (valid_clips.empty()) throw Error("dataset " + dataset.source.string(), "has no validation clips (split 'valid')");
    const bool single = is_single_label(config, dataset);
    const std::string metric = config.resolved_metric(single);
    if (metric == "accuracy" && !single) throw Error("train config", "metric accuracy needs a single-label dataset");
    const std::size_t n_tags = dataset.vocabulary.size();

    // Threads: loader workers plus compute threads stay within the budget.
    int budget = config.threads > 0 ? config.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    if (dp && config.threads <= 0) {
        // All cores of the node shared by the ranks Open MPI placed on it.
        const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (local && std::atoi(local) > 0) budget = std::max(1, budget / std::atoi(local));
    }
    // Compute takes the whole budget; loader workers run beside it, as PyTorch's DataLoader workers do.
    // With a model that costs more per clip than loading it, the workers sleep on a full queue most of the
    // time, so reserving cores for them (as this trainer once did) left a core idle: short_chunk_cnn on 2
    // cores trained at 9.8 clips/s with 1 compute thread. They never call BLAS, so no nesting multiplies
    // the thread count.
    const int workers = std::clamp(config.workers, 1, budget);
    nn::set_thread_budget(budget);

    // Model.
    nlohmann::json spec = config.model;
    if (!spec.contains("seed")) spec["seed"] = config.seed;
    std::shared_ptr<nn::models::TaggingModel> model = nn::models::build_model(spec, static_cast<std::int64_t>(n_tags));
    std::vector<nn::Parameter*> pretrained;
    if (!options.init_from.empty()) {
        RunModel base = load_run(options.init_from);
        const bool same_vocab = base.card.tags == dataset.vocabulary;
        pretrained = transfer_weights(*base.model, *model, same_vocab ? std::string() : model->output_name());
        if (!quiet)
            std::cerr << "init from " << options.init_from.string() << ": " << pretrained.size() << " tensors loaded"
                      << (same_vocab ? "" : ", output layer re-created for the new vocabulary") << "\n";
    }
    if (options.freeze > 0) model->freeze_blocks(options.freeze);
    model->train();
    std::vector<nn::Parameter*> fresh, pre;
    {
        std::set<nn::Parameter*> pset(pretrained.begin(), pretrained.end());
        for (nn::Parameter* p : model->parameters()) {
            if (!p->requires_grad) continue;
            (pset.count(p) ? pre : fresh).push_back(p);
        }
    }
    const nn::Shape in_shape = model->input_shape(1);
    const auto input_length = static_cast<std::size_t>(in_shape[in_shape.rank() - 1]);

    // Front end and normalisation (training split only).
    ModelCard card;
    card.mtag_version = options.mtag_version;
    card.preset = config.preset();
    card.model_options = spec;
    card.features = config.features;
    card.input_length = input_length;
    card.tags = dataset.vocabulary;
    card.task = single ? Task::singlelabel : Task::multilabel;
    card.evaluation = {.length = input_length, .train_crops = config.train_crops, .eval = config.eval_chunking,
                       .eval_chunks = config.eval_chunks};
    card.evaluation.validate();
    const bool waveform = config.is_waveform();
    const int sample_rate = card.sample_rate();
    FrontEnd front_end;
    if (!waveform) {
        front_end = make_front_end(card.feature_config());
        if (static_cast<std::int64_t>(card.feature_config().bins()) != in_shape[1])
            throw Error("train config", "features give " + std::to_string(card.feature_config().bins()) +
                                            " bins, the model expects " + std::to_string(in_shape[1]));
    }
    // Decoded clips kept in memory (bounded, data/waveform_cache.hpp): epochs after the first skip decoding.
    WaveformCache waveforms({.sample_rate = sample_rate});
    nlohmann::json run_state;  // from the checkpoint on resume
    nn::TrainingCheckpoint resumed;
    if (options.resume) {
        resumed = nn::load_checkpoint(checkpoint_path);
        if (!resumed.scalars.contains("mtag.run"))
            throw Error("checkpoint " + checkpoint_path.string(), "has no 'mtag.run' state; not written by mtag train");
        run_state = resumed.scalars["mtag.run"];
        card.normalization = Normalization::from_json(run_state.at("normalization"));
    } else {
        ClipFeatureFn features = [&](const Clip& clip) {
            // Decoded through the waveform cache, so this pass also fills it for the first epoch.
            const WaveformCache::Waveform audio = waveforms.get(clip.audio_path);
            dsp::FloatMatrix m;
            if (waveform) {
                m.resize(1, audio->size());
                std::copy(audio->begin(), audio->end(), m.data.begin());
            } else {
                front_end(*audio, m);
            }
            return m;
        };
        // Training clips that cannot be decoded are left out of the statistics (and of the batches, where
        // the loader reports them every epoch): decode every training clip first, on all threads, which
        // also fills the waveform cache (clips beyond its bound are decoded again by the pass below).
        auto training_statistics = [&]() -> Normalization {
            Dataset readable = dataset;
            std::vector<std::string> reasons(train_clips.size());
            {
                std::atomic<std::size_t> next{0};
                auto work = [&] {
                    for (std::size_t i; (i = next++) < train_clips.size();) {
                        try {
                            waveforms.get(dataset.clips[train_clips[i]].audio_path);
                        } catch (const std::exception& e) {
                            reasons[i] = e.what();
                        }
                    }
                };
                std::vector<std::thread> pool;
                for (int t = 1; t < budget; ++t) pool.emplace_back(work);
                work();
                for (std::thread& t : pool) t.join();
            }
            std::size_t unreadable = 0;
            for (std::size_t i = 0; i < train_clips.size(); ++i) {
                if (reasons[i].empty()) continue;
                ++unreadable;
                readable.clips[train_clips[i]].split = Split::test;  // out of the statistics only
                if (!options.quiet)
                    std::cerr << "warning: normalisation statistics skip '" << dataset.clips[train_clips[i]].audio_path.string()
                              << "': " << reasons[i] << "\n";
            }
            if (unreadable == train_clips.size())
                throw Error("dataset " + dataset.source.string(), "no training clip can be decoded, e.g. " + reasons.front());
            return compute_normalization(readable, features, config.normalization, budget);
        };
        if (!dp) {
            card.normalization = training_statistics();
        } else {
            // Rank 0 computes the statistics while the others wait (no watchdog: this may take long).
            std::string text;
            if (root) text = training_statistics().to_json().dump();
            comm->broadcast_untimed(text, 0);
            card.normalization = Normalization::from_json(nlohmann::json::parse(text));
        }
    }
    card.validate("model card");

    // Loaders.
    std::unique_ptr<dsp::AugmentPipeline> augment;
    if (config.augmentation.is_object()) augment = std::make_unique<dsp::AugmentPipeline>(config.augmentation);
    auto make_fn = [&](bool train) -> SampleFn {
        if (waveform) return make_waveform_sample_fn(sample_rate, card.evaluation, train, augment.get(), &card.normalization,
                                                       &waveforms);
        ClipPipelineOptions o{.features = card.feature_config(), .chunking = card.evaluation, .train = train,
                              .augment = augment.get(), .waveforms = &waveforms, .normalization = &card.normalization};
        return make_clip_sample_fn(o, front_end);
    };
    BatchLoader train_loader(dataset, train_clips, make_fn(true),
                             {.batch_size = config.batch_size, .workers = workers, .prefetch = config.prefetch,
                              .shuffle = true, .repeats = config.train_crops, .seed = config.seed,
                              .shard_index = static_cast<std::size_t>(rank), .shard_count = static_cast<std::size_t>(ranks)});
    const std::size_t eval_k = config.eval_chunking == EvalChunking::evenly_spaced ? config.eval_chunks
                                                                                    : std::max<std::size_t>(config.eval_chunks, 1);
    BatchLoader valid_loader(dataset, valid_clips, make_fn(false),
                             {.batch_size = config.batch_size, .workers = workers, .prefetch = config.prefetch,
                              .shuffle = false, .repeats = eval_k, .seed = config.seed,
                              .shard_index = static_cast<std::size_t>(rank), .shard_count = static_cast<std::size_t>(ranks)});
    const std::size_t batches = train_loader.batches_per_epoch();

    // Optimizer, schedule, early stopping, log.
    auto optimizer = make_optimizer(config.optimizer, fresh, pre);
    nn::ScheduleUnit unit = nn::ScheduleUnit::epoch;
    auto schedule = make_schedule(config.schedule, optimizer->lr(), config.epochs, static_cast<std::int64_t>(batches), unit);
    nn::TrainingStateOptions so;
    so.monitor = metric;
    so.early_stopping.mode = metric == "val_loss" ? nn::MonitorMode::min : nn::MonitorMode::max;
    so.early_stopping.patience = config.patience > 0 ? config.patience : std::numeric_limits<std::int64_t>::max();
    so.early_stopping.min_delta = config.min_delta;
    so.reload_best.enabled = config.reload_best.value("enabled", false);
    so.reload_best.lr_factor = config.reload_best.value("lr_factor", so.reload_best.lr_factor);
    so.reload_best.max_reloads = config.reload_best.value("max_reloads", so.reload_best.max_reloads);
    so.reload_best.switch_to_sgd_at = config.reload_best.value("switch_to_sgd_at", so.reload_best.switch_to_sgd_at);
    so.schedule_unit = unit;
    so.max_grad_norm = config.max_grad_norm;
    if (root) so.log_path = out / "log.jsonl";
    nn::TrainingState state(std::move(optimizer), std::move(schedule), so);

    std::int64_t epoch = 0;            // 0-based epoch in progress
    std::size_t start_batch = 0;       // first batch of `epoch` still to train
    double loss_sum = 0;
    std::size_t loss_count = 0, examples = 0;
    double elapsed_before = 0;         // seconds trained by earlier processes
    TrainResult result;
    result.metric = metric;
    if (options.resume) {
        // Full model first (buffers, frozen parameters), then the optimizer-side state.
        std::map<std::string, const nn::Tensor*> saved;
        for (const auto& [n, t] : resumed.tensors) saved[n] = &t;
        for (nn::Parameter* p : model->parameters())
            if (auto it = saved.find("model." + p->name); it != saved.end()) p->value.copy_from(*it->second);
        for (nn::Buffer* b : model->buffers())
            if (auto it = saved.find("model." + b->name); it != saved.end()) b->value.copy_from(*it->second);
        state.load(resumed);
        epoch = run_state.at("epoch").get<std::int64_t>();
        start_batch = run_state.at("batch").get<std::size_t>();
        loss_sum = run_state.at("loss_sum").get<double>();
        loss_count = run_state.at("loss_count").get<std::size_t>();
        examples = run_state.at("examples").get<std::size_t>();
        elapsed_before = run_state.value("seconds", 0.0);
        result.best_epoch = run_state.value("best_epoch", std::int64_t{0});
        result.skipped_batches = run_state.value("skipped_batches", std::size_t{0});
        if (!quiet)
            std::cerr << "resuming " << out.string() << " at epoch " << epoch + 1 << ", batch " << start_batch << "\n";
    }
    if (root) std::ofstream(out / "config.json") << config.to_json().dump(2) << "\n";
    std::unique_ptr<dist::GradientSynchronizer> sync;
    bool agreed_stop = false;  // dp: some rank got a stop signal (agreed at the end of each step)
    if (dp) {
        dist::broadcast_model(*comm, *model);
        std::vector<nn::Parameter*> trainable;
        for (nn::Parameter* p : model->parameters())
            if (p->requires_grad) trainable.push_back(p);
        sync = std::make_unique<dist::GradientSynchronizer>(*comm, trainable,
                                                            dist::GradSyncOptions{.bucket_bytes = options.bucket_bytes});
        model->set_backward_observer([&sync](nn::Module& m) { sync->on_module_done(m); });
        if (config.sync_batchnorm) {
            // Synchronised BatchNorm: every training forward/backward of a BN layer sums its per-channel
            // statistics over the ranks (a blocking all-reduce, in the same layer order on every rank).
            std::vector<nn::BatchNormBase*> bns;
            collect_batchnorms(*model, bns);
            for (nn::BatchNormBase* bn : bns)
                bn->set_stat_reducer([comm](std::span<double> v) { comm->allreduce_sum(v, "synchronised BatchNorm"); });
        }
        cpu_set_t allowed;
        const int threads_used = budget + workers;  // compute threads + loader workers
        if (!quiet && sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) < threads_used)
            std::cerr << "warning: each rank may run on " << CPU_COUNT(&allowed) << " CPU(s) but uses " << threads_used
                      << " threads (loader + compute); its loader starves while it waits in MPI. Start mpirun with "
                         "--bind-to none, or --map-by slot:PE=" << threads_used << "\n";
        if (!quiet)
            std::cerr << "data-parallel over " << ranks << " ranks (" << dist::Communicator::library_version()
                      << "): global batch " << config.batch_size << ", " << budget << " threads per rank, "
                      << sync->floats_per_step() * sizeof(float) << " bytes all-reduced per step in "
                      << sync->bucket_count() << " buckets; BatchNorm statistics "
                      << (config.sync_batchnorm ? "synchronised over ranks" : "per rank (local)") << "\n";
    }
    struct ModelObserverReset {  // the observer captures locals of this function
        nn::models::TaggingModel& m;
        ~ModelObserverReset() {
            m.set_backward_observer({});
            std::vector<nn::BatchNormBase*> bns;  // the reducers capture this run's communicator
            collect_batchnorms(m, bns);
            for (nn::BatchNormBase* bn : bns) bn->set_stat_reducer({});
        }
    } observer_reset{*model};

    auto save_state = [&](std::int64_t next_epoch, std::size_t next_batch) {
        if (!root) return;
        nn::TrainingCheckpoint c = state.save();
        for (nn::Parameter* p : model->parameters()) c.tensors.emplace_back("model." + p->name, p->value.clone());
        for (nn::Buffer* b : model->buffers()) c.tensors.emplace_back("model." + b->name, b->value.clone());
        c.scalars["mtag.run"] = {{"epoch", next_epoch},   {"batch", next_batch},
                                 {"loss_sum", loss_sum},  {"loss_count", loss_count},
                                 {"examples", examples},  {"seconds", elapsed_before + seconds_since(t_start)},
                                 {"best_epoch", result.best_epoch}, {"skipped_batches", result.skipped_batches},
                                 {"normalization", card.normalization.to_json()}};
        nn::save_checkpoint(c, checkpoint_path);
    };
    auto summary = [&](const std::map<std::string, double>& metrics) {
        nlohmann::json m = nlohmann::json::object();
        for (const auto& [k, v] : metrics) m[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
        return nlohmann::json{{"best_epoch", result.best_epoch},
                              {"metric", metric},
                              {"validation", m},
                              {"epochs_planned", config.epochs},
                              {"dataset", {{"format", dataset.format}, {"source", dataset.source.string()},
                                           {"train_clips", train_clips.size()}, {"valid_clips", valid_clips.size()}}},
                              {"seed", config.seed},
                              {"seconds", elapsed_before + seconds_since(t_start)},
                              {"init_from", options.init_from.string()},
                              {"freeze", options.freeze},
                              {"config", config.to_json()}};
    };

    std::vector<nn::Dropout*> dropouts;
    collect_dropouts(*model, dropouts);
    const bool has_batchnorm = has_module<nn::BatchNormBase>(*model);
    bool noted_short_batch = false;
    nn::BCEWithLogitsLoss bce;
    nn::CrossEntropyLoss ce;
    std::size_t trained_batches = 0;
    const double budget_seconds = config.max_minutes * 60.0;

    for (; epoch < config.epochs; ++epoch, start_batch = 0) {
        const auto t_epoch = Clock::now();
        train_loader.start_epoch(static_cast<std::uint64_t>(epoch));
        model->train();
        std::size_t epoch_examples = 0;
        for (std::size_t b = 0;; ++b) {
            auto batch = train_loader.next();
            if (!batch) break;
            if (b < start_batch) continue;  // resumed mid-epoch: already trained
            const bool signalled = dp ? agreed_stop : (options.stop && options.stop->load());
            const bool stop_now = signalled ||
                                  (options.stop_after_batches && trained_batches >= options.stop_after_batches);
            if (stop_now) {
                save_state(epoch, b);
                result.interrupted = true;
                result.stop_reason = "interrupted";
                result.seconds = seconds_since(t_start);
                if (options.on_finish) options.on_finish(*model);
                if (dp) comm->barrier("end of run");  // return once rank 0's checkpoint is on disk
                if (!quiet)
                    std::cerr << "interrupted at epoch " << epoch + 1 << ", batch " << b << ": checkpoint saved to "
                              << checkpoint_path.string() << " (continue with --resume)\n";
                return result;
            }
            if (dp && has_batchnorm && batch->global_size < 2 * static_cast<std::size_t>(ranks)) {
                // A shard of one example cannot give BatchNorm batch statistics: skip this (last, short) batch
                // on every rank alike.
                if (!quiet && !noted_short_batch)
                    std::cerr << "note: the last batch (" << batch->global_size << " examples) is skipped: fewer than 2 "
                              << "per rank for BatchNorm\n";
                noted_short_batch = true;
                continue;
            }
            if (dp) {
                // One data-parallel step: this rank's shard forward/backward, gradients summed over ranks
                // (buckets start during backward), the global mean loss and stop flag agreed, same update.
                const std::size_t n_local = batch->size(), n_global = batch->global_size;
                state.zero_grad();
                sync->begin_step();
                double shared[3] = {0, 0, 0};  // sum of per-example losses, non-finite count, stop requests
                const std::vector<nn::Tensor> saved_buffers =
                    config.nan_policy == "skip" ? snapshot_buffers(*model) : std::vector<nn::Tensor>{};
                if (n_local > 0) {
                    const auto n = static_cast<std::int64_t>(n_local);
                    nn::Tensor x = nn::Tensor::from(model->input_shape(n), batch->inputs);
                    if (options.batch_hook) options.batch_hook(epoch, b, x);
                    for (std::size_t d = 0; d < dropouts.size(); ++d) {
                        // Each rank draws its own masks (the same seed would repeat one mask pattern per shard).
                        const std::uint64_t s0 =
                            example_seed(config.seed ^ 0x64726f70ULL, static_cast<std::uint64_t>(epoch), b * 64 + d);
                        dropouts[d]->seed(example_seed(s0, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(ranks)));
                    }
                    const nn::Tensor y = model->forward(x);
                    auto [loss, grad] = loss_and_gradient(y, *batch, single, n_tags, ce, bce);
                    // Synchronised BatchNorm: backward holds collectives, so every rank runs it (the step is
                    // skipped below when any loss is not finite).
                    if (std::isfinite(loss) || config.sync_batchnorm) {
                        // d(mean over the global batch)/d(logits) = d(mean over the shard) * n_local / n_global.
                        const float scale = static_cast<float>(n_local) / static_cast<float>(n_global);
                        float* g = grad.data();
                        for (std::size_t i = 0; i < grad.size(); ++i) g[i] *= scale;
                        model->backward(grad);
                    }
                    if (std::isfinite(loss)) shared[0] = loss * static_cast<double>(n_local);
                    else shared[1] = 1;
                }
                shared[2] = options.stop && options.stop->load() ? 1 : 0;
                const double blocked_before = comm->blocked_seconds();
                sync->finish();
                comm->allreduce_sum(std::span<double>(shared, 3), "loss all-reduce");
                result.comm_wait_seconds += comm->blocked_seconds() - blocked_before;
                agreed_stop = shared[2] > 0;
                const double loss = shared[0] / static_cast<double>(n_global);
                const bool finite = shared[1] == 0 && std::isfinite(loss) && all_finite(*model);
                if (!finite) {
                    if (config.nan_policy == "skip") {
                        ++result.skipped_batches;
                        restore_buffers(*model, saved_buffers);
                        if (!quiet)
                            std::cerr << "warning: non-finite loss or gradient at epoch " << epoch + 1 << ", step "
                                      << state.step() + 1 << " (batch " << b << "): batch skipped\n";
                        state.zero_grad();
                        ++trained_batches;
                        continue;
                    }
                    throw Error("training", "loss or gradient is not finite at epoch " + std::to_string(epoch + 1) +
                                                ", step " + std::to_string(state.step() + 1) + " (batch " +
                                                std::to_string(b) + ", data-parallel over " + std::to_string(ranks) +
                                                " ranks); stopped, keeping the last good checkpoint " +
                                                checkpoint_path.string() + " and the best model. Lower the learning "
                                                "rate, set max_grad_norm, or set nan_policy \"skip\"");
                }
                state.optimizer_step();
                if (options.check_every > 0 && state.step() % static_cast<std::int64_t>(options.check_every) == 0)
                    dist::check_parameters_agree(*comm, *model, state.step());
                loss_sum += loss;
                ++loss_count;
                examples += n_global;
                epoch_examples += n_global;
                ++trained_batches;
                ++result.steps;
                continue;
            }
            const auto n = static_cast<std::int64_t>(batch->size());
            nn::Tensor x = nn::Tensor::from(model->input_shape(n), batch->inputs);
            if (options.batch_hook) options.batch_hook(epoch, b, x);
            for (std::size_t d = 0; d < dropouts.size(); ++d)
                dropouts[d]->seed(example_seed(config.seed ^ 0x64726f70ULL, static_cast<std::uint64_t>(epoch), b * 64 + d));
            state.zero_grad();
            const std::vector<nn::Tensor> saved_buffers =
                config.nan_policy == "skip" ? snapshot_buffers(*model) : std::vector<nn::Tensor>{};
            const nn::Tensor y = model->forward(x);
            auto [loss, grad] = loss_and_gradient(y, *batch, single, n_tags, ce, bce);
            bool finite = std::isfinite(loss);
            if (finite) {
                model->backward(grad);
                finite = all_finite(*model);
            }
            if (!finite) {
                if (config.nan_policy == "skip") {
                    ++result.skipped_batches;
                    restore_buffers(*model, saved_buffers);
                    if (!options.quiet)
                        std::cerr << "warning: non-finite loss or gradient at epoch " << epoch + 1 << ", step " << state.step() + 1
                                  << " (batch " << b << "): batch skipped\n";
                    state.zero_grad();
                    ++trained_batches;
                    continue;
                }
                throw Error("training", "loss is " + std::string(std::isfinite(loss) ? "finite but a gradient is not" : std::to_string(loss)) +
                                            " at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(state.step() + 1) +
                                            " (batch " + std::to_string(b) + "); stopped, keeping the last good checkpoint " +
                                            checkpoint_path.string() + " and the best model. Lower the learning rate, set "
                                            "max_grad_norm, or set nan_policy \"skip\"");
            }
            state.optimizer_step();
            loss_sum += loss;
            ++loss_count;
            examples += batch->size();
            epoch_examples += batch->size();
            ++trained_batches;
            ++result.steps;
        }
        const double train_loss = loss_count ? loss_sum / static_cast<double>(loss_count) : NAN;
        const double train_seconds = seconds_since(t_epoch);
        result.step_seconds += train_seconds;
        result.examples_trained += epoch_examples;
        if (dp) {
            dist::average_buffers(*comm, *model);
            dist::check_parameters_agree(*comm, *model, state.step());
        }
        std::map<std::string, double> metrics =
            dp ? validate_distributed(*model, valid_loader, dataset, valid_clips, eval_k, single, n_tags,
                                      config.batch_size, *comm)
               : validate(*model, valid_loader, dataset, valid_clips, single, n_tags);
        const std::vector<ClipFailure> train_failures = train_loader.epoch_failures();
        const std::vector<ClipFailure> valid_failures = valid_loader.epoch_failures();
        if (root) {  // each rank reports its own shard's failures on stderr; rank 0 logs its own
            report_skipped_clips(train_failures, epoch, "train", out / "log.jsonl", options.quiet);
            report_skipped_clips(valid_failures, epoch, "valid", out / "log.jsonl", options.quiet);
        }
        if (!train_failures.empty() || !valid_failures.empty())
            metrics["skipped_clips"] = static_cast<double>(train_failures.size() + valid_failures.size());
        metrics["train_loss"] = train_loss;
        metrics["clips_per_second"] = train_seconds > 0 ? epoch_examples / train_seconds : 0;
        const nn::EpochDecision decision = state.end_epoch(metrics);
        if (decision.improved) {
            result.best_epoch = epoch + 1;
            result.best_value = metrics[metric];
            card.training = summary(metrics);
            if (root) save_run(*model, card, out);
        }
        result.train_losses.push_back(train_loss);
        result.last_metrics = metrics;
        result.epochs_completed = epoch + 1;
        loss_sum = 0;
        loss_count = 0;
        const double elapsed = elapsed_before + seconds_since(t_start);
        const double epoch_seconds = seconds_since(t_epoch);
        bool out_of_time = budget_seconds > 0 && elapsed >= budget_seconds;
        if (dp && budget_seconds > 0) {
            // Clocks differ slightly between ranks: stop when any rank is out of time, all together.
            double flag = out_of_time ? 1 : 0;
            comm->allreduce_sum(std::span<double>(&flag, 1), "time budget agreement");
            out_of_time = flag > 0;
        }
        save_state(epoch + 1, 0);
        if (!quiet) {
            const double remaining_epochs = static_cast<double>(config.epochs - epoch - 1);
            double eta = remaining_epochs * epoch_seconds;
            if (budget_seconds > 0) eta = std::min(eta, std::max(0.0, budget_seconds - elapsed));
            std::ostringstream line;
            line.setf(std::ios::fixed);
            line.precision(4);
            line << "epoch " << epoch + 1 << "/" << config.epochs << "  batches " << batches << "  loss " << train_loss;
            line.precision(1);
            line << "  " << metrics["clips_per_second"] << " clips/s  ETA " << format_duration(eta);
            line.precision(4);
            line << "  val_loss " << metrics["val_loss"];
            if (single) line << "  accuracy " << metrics["accuracy"];
            line << "  roc_auc " << metrics["roc_auc_macro"] << "  pr_auc " << metrics["pr_auc_macro"];
            if (decision.improved) line << "  (best)";
            if (result.skipped_batches) line << "  skipped " << result.skipped_batches;
            std::cerr << line.str() << std::endl;
        }
        if (decision.stop || state.should_stop()) {
            result.stop_reason = "early_stopping";
            break;
        }
        if (out_of_time) {
            result.stop_reason = "max_minutes";
            if (!quiet)
                std::cerr << "time budget of " << config.max_minutes << " min used up after epoch " << epoch + 1
                          << "; keeping the best model (epoch " << result.best_epoch << ")\n";
            break;
        }
    }
    if (result.stop_reason.empty()) result.stop_reason = "epochs";
    result.seconds = elapsed_before + seconds_since(t_start);
    if (options.on_finish) options.on_finish(*model);
    if (!root) {
        comm->barrier("end of run");  // return once rank 0 has written the run directory
        return result;
    }
    // Final summary in the card of the best model (its weights are already on disk).
    if (result.best_epoch > 0 && fs::exists(out / "model.json")) {
        std::ifstream in(out / "model.json");
        nlohmann::json j;
        in >> j;
        j["metadata"]["training"]["stop_reason"] = result.stop_reason;
        j["metadata"]["training"]["epochs_completed"] = result.epochs_completed;
        j["metadata"]["training"]["total_seconds"] = result.seconds;
        j["metadata"]["training"]["skipped_batches"] = result.skipped_batches;
        const fs::path tmp = out / "model.json.tmp";
        std::ofstream(tmp) << j.dump(2) << "\n";
        fs::rename(tmp, out / "model.json");
    } else if (result.best_epoch == 0) {
        // No epoch improved (e.g. metric NaN throughout): save the last weights so the run is usable.
        card.training = summary(result.last_metrics);
        save_run(*model, card, out);
    }
    if (dp) comm->barrier("end of run");
    return result;
}

}  // namespace mtag::data
