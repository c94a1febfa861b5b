#include "data/train/validation.hpp"

#include "data/pipeline/chunking.hpp"
#include "dsp/error.hpp"
#include "nn/loss.hpp"
#include "nn/metrics.hpp"

#include <algorithm>
#include <cstring>

namespace mtag::data {

std::vector<std::int64_t> argmax_rows(std::span<const float> values, std::size_t cols) {
    std::vector<std::int64_t> out(values.size() / cols);
    for (std::size_t r = 0; r < out.size(); ++r) {
        const float* row = values.data() + r * cols;
        out[r] = std::max_element(row, row + cols) - row;
    }
    return out;
}

namespace {

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

}  // namespace

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

}  // namespace mtag::data
