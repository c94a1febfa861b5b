#include "data/pipeline/chunking.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::data {

void ChunkOptions::validate() const {
    if (length == 0) throw Error("chunking", "length must be > 0 (the model's input length)");
    if (train_crops == 0) throw Error("chunking", "train_crops must be >= 1");
    if (eval == EvalChunking::evenly_spaced && eval_chunks == 0)
        throw Error("chunking", "eval_chunks must be >= 1 for evenly spaced chunks");
}

std::vector<std::size_t> random_crop_offsets(std::size_t total, std::size_t length, std::size_t count,
                                             std::mt19937_64& rng) {
    std::vector<std::size_t> out(count, 0);
    if (total <= length) return out;
    std::uniform_int_distribution<std::size_t> offset(0, total - length);
    for (std::size_t& o : out) o = offset(rng);
    return out;
}

std::vector<std::size_t> eval_chunk_offsets(std::size_t total, const ChunkOptions& options) {
    const std::size_t length = options.length;
    if (total <= length) return {0};
    const std::size_t span = total - length;
    std::vector<std::size_t> out;
    if (options.eval == EvalChunking::evenly_spaced) {
        const std::size_t k = options.eval_chunks;
        if (k == 1) return {span / 2};
        for (std::size_t i = 0; i < k; ++i)
            out.push_back(static_cast<std::size_t>(std::llround(static_cast<double>(span) * i / (k - 1))));
    } else {
        std::size_t n = total / length;
        if (options.eval_chunks > 0) n = std::min(n, options.eval_chunks);
        for (std::size_t i = 0; i < n; ++i) out.push_back(i * length);
    }
    return out;
}

void copy_chunk(std::span<const float> signal, std::size_t offset, std::span<float> out) {
    const std::size_t available = offset < signal.size() ? std::min(out.size(), signal.size() - offset) : 0;
    std::copy_n(signal.begin() + static_cast<std::ptrdiff_t>(std::min(offset, signal.size())), available,
                out.begin());
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(available), out.end(), 0.0f);
}

void copy_chunk(const dsp::FloatMatrix& features, std::size_t offset, dsp::FloatMatrix& out) {
    if (out.rows != features.rows)
        throw Error("chunking", "output has " + std::to_string(out.rows) + " bins, features " +
                                    std::to_string(features.rows));
    for (std::size_t b = 0; b < features.rows; ++b) copy_chunk(features.row(b), offset, out.row(b));
}

std::vector<float> average_chunk_scores(std::span<const float> logits, std::size_t chunks,
                                        ChunkActivation activation) {
    if (chunks == 0 || logits.size() % chunks != 0)
        throw Error("chunk averaging", std::to_string(logits.size()) + " logits do not split into " +
                                           std::to_string(chunks) + " chunks");
    const std::size_t n = logits.size() / chunks;
    std::vector<double> sum(n, 0.0);
    for (std::size_t c = 0; c < chunks; ++c) {
        const float* row = logits.data() + c * n;
        if (activation == ChunkActivation::sigmoid) {
            for (std::size_t i = 0; i < n; ++i)
                sum[i] += 1.0 / (1.0 + std::exp(-static_cast<double>(row[i])));
        } else {
            const double top = *std::max_element(row, row + n);
            double z = 0.0;
            for (std::size_t i = 0; i < n; ++i) z += std::exp(row[i] - top);
            for (std::size_t i = 0; i < n; ++i) sum[i] += std::exp(row[i] - top) / z;
        }
    }
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(sum[i] / static_cast<double>(chunks));
    return out;
}

}  // namespace mtag::data
