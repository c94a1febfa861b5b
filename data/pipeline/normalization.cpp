#include "data/pipeline/normalization.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

namespace mtag::data {

RunningStats::RunningStats(std::size_t bins) : m_mean(bins, 0.0), m_m2(bins, 0.0), m_count(bins, 0) {}

void RunningStats::add(const dsp::FloatMatrix& features) {
    if (features.rows != bins())
        throw Error("normalisation statistics", "features have " + std::to_string(features.rows) +
                                                    " bins, expected " + std::to_string(bins()));
    for (std::size_t b = 0; b < features.rows; ++b) add(features.row(b), b);
}

void RunningStats::add(std::span<const float> values, std::size_t bin) {
    if (values.empty()) return;
    // Two-pass statistics of the batch in double, then Chan's combination with the running ones.
    double sum = 0.0;
    for (float v : values) sum += v;
    const double n_b = static_cast<double>(values.size());
    const double mean_b = sum / n_b;
    double m2_b = 0.0;
    for (float v : values) {
        const double d = v - mean_b;
        m2_b += d * d;
    }
    const double n_a = static_cast<double>(m_count[bin]);
    const double n = n_a + n_b;
    const double delta = mean_b - m_mean[bin];
    m_mean[bin] += delta * n_b / n;
    m_m2[bin] += m2_b + delta * delta * n_a * n_b / n;
    m_count[bin] += values.size();
}

void RunningStats::merge(const RunningStats& other) {
    if (other.bins() != bins())
        throw Error("normalisation statistics",
                    "cannot merge " + std::to_string(other.bins()) + " bins into " + std::to_string(bins()));
    for (std::size_t b = 0; b < bins(); ++b) {
        if (other.m_count[b] == 0) continue;
        const double n_a = static_cast<double>(m_count[b]);
        const double n_b = static_cast<double>(other.m_count[b]);
        const double n = n_a + n_b;
        const double delta = other.m_mean[b] - m_mean[b];
        m_mean[b] += delta * n_b / n;
        m_m2[b] += other.m_m2[b] + delta * delta * n_a * n_b / n;
        m_count[b] += other.m_count[b];
    }
}

std::vector<double> RunningStats::variance() const {
    std::vector<double> out(bins(), 0.0);
    for (std::size_t b = 0; b < bins(); ++b)
        out[b] = m_count[b] == 0 ? 0.0 : m_m2[b] / static_cast<double>(m_count[b]);
    return out;
}

std::string to_string(NormalizationKind kind) {
    switch (kind) {
        case NormalizationKind::per_bin:
            return "per_bin";
        case NormalizationKind::global:
            return "global";
        case NormalizationKind::per_sample:
            return "per_sample";
        case NormalizationKind::none:
            return "none";
    }
    return "?";
}

Normalization Normalization::from_stats(const RunningStats& stats, NormalizationKind kind) {
    Normalization out;
    out.kind = kind;
    if (kind == NormalizationKind::per_sample || kind == NormalizationKind::none) return out;
    if (kind == NormalizationKind::global && stats.bins() != 1)
        throw Error("normalisation statistics", "global statistics need a one-bin accumulator, got " +
                                                    std::to_string(stats.bins()) + " bins");
    const std::vector<double> variance = stats.variance();
    for (std::size_t b = 0; b < stats.bins(); ++b) {
        out.mean.push_back(static_cast<float>(stats.mean()[b]));
        out.std.push_back(static_cast<float>(std::sqrt(variance[b])));
    }
    out.count = stats.count();
    return out;
}

void Normalization::apply(dsp::FloatMatrix& features) const {
    if (kind == NormalizationKind::none) return;
    if (kind == NormalizationKind::per_sample) {
        apply(std::span<float>(features.data));
        return;
    }
    if (kind == NormalizationKind::global) {
        apply(std::span<float>(features.data));
        return;
    }
    if (features.rows != mean.size())
        throw Error("normalisation", "features have " + std::to_string(features.rows) +
                                         " bins, the statistics " + std::to_string(mean.size()) +
                                         " (front end differs from the model card)");
    for (std::size_t b = 0; b < features.rows; ++b) {
        const float m = mean[b];
        const float inv = 1.0f / std::max(std[b], eps);
        for (float& v : features.row(b)) v = (v - m) * inv;
    }
}

void Normalization::apply(std::span<float> values) const {
    if (kind == NormalizationKind::none) return;
    float m = 0.0f, s = 1.0f;
    if (kind == NormalizationKind::per_sample) {
        RunningStats own(1);
        own.add(values);
        m = static_cast<float>(own.mean()[0]);
        s = static_cast<float>(std::sqrt(own.variance()[0]));
    } else if (kind == NormalizationKind::global && mean.size() == 1) {
        m = mean[0];
        s = std[0];
    } else {
        throw Error("normalisation", to_string(kind) + " statistics with " + std::to_string(mean.size()) +
                                         " bins cannot normalise a waveform");
    }
    const float inv = 1.0f / std::max(s, eps);
    for (float& v : values) v = (v - m) * inv;
}

nlohmann::json Normalization::to_json() const {
    return {{"kind", to_string(kind)}, {"count", count}, {"eps", eps}, {"mean", mean}, {"std", std}};
}

Normalization Normalization::from_json(const nlohmann::json& json) {
    const std::string where = "model card \"normalization\"";
    try {
        Normalization out;
        const std::string kind = json.at("kind").get<std::string>();
        if (kind == "per_bin")
            out.kind = NormalizationKind::per_bin;
        else if (kind == "global")
            out.kind = NormalizationKind::global;
        else if (kind == "per_sample")
            out.kind = NormalizationKind::per_sample;
        else if (kind == "none")
            out.kind = NormalizationKind::none;
        else
            throw Error(where, "kind '" + kind + "', expected per_bin, global, per_sample or none");
        out.count = json.value("count", std::uint64_t{0});
        out.eps = json.value("eps", 1e-5f);
        out.mean = json.value("mean", std::vector<float>{});
        out.std = json.value("std", std::vector<float>{});
        const std::size_t expected = out.kind == NormalizationKind::per_sample || out.kind == NormalizationKind::none ? 0
                                     : out.kind == NormalizationKind::global   ? 1
                                                                               : out.mean.size();
        if (out.mean.size() != expected || out.std.size() != expected ||
            (out.kind == NormalizationKind::per_bin && expected == 0))
            throw Error(where, "got " + std::to_string(out.mean.size()) + " means and " +
                                   std::to_string(out.std.size()) + " stds for kind " + kind);
        for (std::size_t b = 0; b < out.mean.size(); ++b)
            if (!std::isfinite(out.mean[b]) || !std::isfinite(out.std[b]) || out.std[b] < 0)
                throw Error(where, "bin " + std::to_string(b) + " has mean " + std::to_string(out.mean[b]) +
                                       ", std " + std::to_string(out.std[b]) +
                                       " (expected finite, std >= 0)");
        if (!(out.eps > 0)) throw Error(where, "eps must be > 0");
        return out;
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed: ") + e.what());
    }
}

Normalization compute_normalization(const Dataset& dataset, const ClipFeatureFn& features,
                                    NormalizationKind kind, int threads) {
    if (kind == NormalizationKind::per_sample || kind == NormalizationKind::none)
        return Normalization::from_stats(RunningStats(0), kind);
    const std::vector<std::size_t> train = dataset.indices(Split::train);
    if (train.empty()) throw Error("normalisation statistics", "the dataset has no training clip");
    // The first clip fixes the bin count.
    const dsp::FloatMatrix first = features(dataset.clips[train.front()]);
    const std::size_t bins = kind == NormalizationKind::global ? 1 : first.rows;
    auto add = [&](RunningStats& stats, const dsp::FloatMatrix& m) {
        if (kind == NormalizationKind::global)
            stats.add(std::span<const float>(m.data));
        else
            stats.add(m);
    };
    // Fixed blocks of clips, each accumulated in order, merged in block order: thread-count independent.
    constexpr std::size_t block = 32;
    const std::size_t n_blocks = (train.size() + block - 1) / block;
    std::vector<RunningStats> partial(n_blocks, RunningStats(bins));
    add(partial[0], first);
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&]() {
        for (std::size_t b = next++; b < n_blocks; b = next++) {
            try {
                for (std::size_t i = b * block + (b == 0 ? 1 : 0);
                     i < std::min(train.size(), (b + 1) * block); ++i)
                    add(partial[b], features(dataset.clips[train[i]]));
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!failure) failure = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
    RunningStats total(bins);
    for (const RunningStats& p : partial) total.merge(p);
    return Normalization::from_stats(total, kind);
}

}  // namespace mtag::data
