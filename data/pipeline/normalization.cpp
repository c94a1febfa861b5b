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
        case NormalizationKind::mean:
            return "mean";
        case NormalizationKind::pca_whiten:
            return "pca_whiten";
    }
    return "?";
}

NormalizationKind parse_normalization_kind(const std::string& name, const std::string& where) {
    for (NormalizationKind k : {NormalizationKind::per_bin, NormalizationKind::global, NormalizationKind::per_sample,
                                NormalizationKind::none, NormalizationKind::mean, NormalizationKind::pca_whiten})
        if (to_string(k) == name) return k;
    throw Error(where, "normalization '" + name + "', expected per_bin, global, per_sample, none, mean or pca_whiten");
}

Normalization Normalization::from_stats(const RunningStats& stats, NormalizationKind kind) {
    Normalization out;
    out.kind = kind;
    if (kind == NormalizationKind::per_sample || kind == NormalizationKind::none) return out;
    if (kind == NormalizationKind::pca_whiten)
        throw Error("normalisation statistics", "pca_whiten needs the covariance (Normalization::from_covariance)");
    if (kind == NormalizationKind::global && stats.bins() != 1)
        throw Error("normalisation statistics", "global statistics need a one-bin accumulator, got " +
                                                    std::to_string(stats.bins()) + " bins");
    const std::vector<double> variance = stats.variance();
    for (std::size_t b = 0; b < stats.bins(); ++b) {
        out.mean.push_back(static_cast<float>(stats.mean()[b]));
        if (kind != NormalizationKind::mean) out.std.push_back(static_cast<float>(std::sqrt(variance[b])));
    }
    out.count = stats.count();
    return out;
}

Normalization Normalization::from_covariance(const RunningCovariance& stats, WhitenMethod method, double eps) {
    if (stats.count() == 0) throw Error("normalisation statistics", "pca_whiten: no training frame");
    Normalization out;
    out.kind = NormalizationKind::pca_whiten;
    out.method = method;
    out.whiten_eps = eps;
    out.count = stats.count();
    for (double m : stats.mean()) out.mean.push_back(static_cast<float>(m));
    for (double w : whitening_matrix(stats.covariance(), stats.bins(), method, eps))
        out.whitening.push_back(static_cast<float>(w));
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
    if (kind == NormalizationKind::mean) {
        for (std::size_t b = 0; b < features.rows; ++b)
            for (float& v : features.row(b)) v -= mean[b];
        return;
    }
    if (kind == NormalizationKind::pca_whiten) {
        // Centre, then y[:, t] = W x[:, t] for every frame, accumulated in double per output value.
        const std::size_t bins = features.rows, frames = features.cols;
        std::vector<float> centred(features.data.size());
        for (std::size_t b = 0; b < bins; ++b)
            for (std::size_t t = 0; t < frames; ++t) centred[b * frames + t] = features(b, t) - mean[b];
        std::vector<double> acc(frames);
        for (std::size_t r = 0; r < bins; ++r) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (std::size_t b = 0; b < bins; ++b) {
                const double w = whitening[r * bins + b];
                const float* x = &centred[b * frames];
                for (std::size_t t = 0; t < frames; ++t) acc[t] += w * x[t];
            }
            for (std::size_t t = 0; t < frames; ++t) features(r, t) = static_cast<float>(acc[t]);
        }
        return;
    }
    for (std::size_t b = 0; b < features.rows; ++b) {
        const float m = mean[b];
        const float inv = 1.0f / std::max(std[b], eps);
        for (float& v : features.row(b)) v = (v - m) * inv;
    }
}

void Normalization::apply(std::span<float> values) const {
    if (kind == NormalizationKind::none) return;
    float m = 0.0f, s = 1.0f;
    if (kind == NormalizationKind::mean && mean.size() == 1) {
        for (float& v : values) v -= mean[0];
        return;
    }
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
    nlohmann::json j = {{"kind", to_string(kind)}, {"count", count}, {"eps", eps}, {"mean", mean}, {"std", std}};
    if (kind == NormalizationKind::pca_whiten) {
        j["whitening"] = whitening;
        j["method"] = to_string(method);
        j["whiten_eps"] = whiten_eps;
    }
    return j;
}

Normalization Normalization::from_json(const nlohmann::json& json) {
    const std::string where = "model card \"normalization\"";
    try {
        Normalization out;
        const std::string kind = json.at("kind").get<std::string>();
        out.kind = parse_normalization_kind(kind, where);
        out.count = json.value("count", std::uint64_t{0});
        out.eps = json.value("eps", 1e-5f);
        out.mean = json.value("mean", std::vector<float>{});
        out.std = json.value("std", std::vector<float>{});
        const std::size_t expected = out.kind == NormalizationKind::per_sample || out.kind == NormalizationKind::none ? 0
                                     : out.kind == NormalizationKind::global   ? 1
                                                                               : out.mean.size();
        const bool has_std = out.kind == NormalizationKind::per_bin || out.kind == NormalizationKind::global;
        if (out.kind == NormalizationKind::pca_whiten) {
            out.whitening = json.at("whitening").get<std::vector<float>>();
            out.method = parse_whiten_method(json.value("method", std::string("zca")), where);
            out.whiten_eps = json.value("whiten_eps", 1e-5);
            if (out.whitening.size() != out.mean.size() * out.mean.size())
                throw Error(where, "whitening has " + std::to_string(out.whitening.size()) + " values for " +
                                       std::to_string(out.mean.size()) + " bins, expected bins * bins");
            for (float w : out.whitening)
                if (!std::isfinite(w)) throw Error(where, "whitening holds a non-finite value");
        }
        if (out.mean.size() != expected || out.std.size() != (has_std ? expected : 0) ||
            ((out.kind == NormalizationKind::per_bin || out.kind == NormalizationKind::mean ||
              out.kind == NormalizationKind::pca_whiten) && expected == 0))
            throw Error(where, "got " + std::to_string(out.mean.size()) + " means and " +
                                   std::to_string(out.std.size()) + " stds for kind " + kind);
        for (std::size_t b = 0; b < out.mean.size(); ++b)
            if (!std::isfinite(out.mean[b]) || (has_std && (!std::isfinite(out.std[b]) || out.std[b] < 0)))
                throw Error(where, "bin " + std::to_string(b) + " has mean " + std::to_string(out.mean[b]) +
                                       ", std " + (has_std ? std::to_string(out.std[b]) : std::string("-")) +
                                       " (expected finite, std >= 0)");
        if (!(out.eps > 0)) throw Error(where, "eps must be > 0");
        return out;
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed: ") + e.what());
    }
}

namespace {

// Statistics of type Stats over the training clips: fixed blocks of clips, each accumulated in order and
// merged in block order, so the result does not depend on the thread count. `first` is the first clip's
// features (already computed: it fixed the bin count).
template <class Stats, class Add>
Stats accumulate(const Dataset& dataset, const std::vector<std::size_t>& train, const ClipFeatureFn& features,
                 const dsp::FloatMatrix& first, std::size_t bins, const Add& add, int threads) {
    constexpr std::size_t block = 32;
    const std::size_t n_blocks = (train.size() + block - 1) / block;
    std::vector<Stats> partial(n_blocks, Stats(bins));
    add(partial[0], first);
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&]() {
        for (std::size_t b = next++; b < n_blocks; b = next++) {
            try {
                for (std::size_t i = b * block + (b == 0 ? 1 : 0); i < std::min(train.size(), (b + 1) * block); ++i)
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
    Stats total(bins);
    for (const Stats& p : partial) total.merge(p);
    return total;
}

}  // namespace

Normalization compute_normalization(const Dataset& dataset, const ClipFeatureFn& features,
                                    const NormalizationOptions& options, int threads) {
    const NormalizationKind kind = options.kind;
    if (kind == NormalizationKind::per_sample || kind == NormalizationKind::none)
        return Normalization::from_stats(RunningStats(0), kind);
    const std::vector<std::size_t> train = dataset.indices(Split::train);
    if (train.empty()) throw Error("normalisation statistics", "the dataset has no training clip");
    // The first clip fixes the bin count.
    const dsp::FloatMatrix first = features(dataset.clips[train.front()]);
    if (kind == NormalizationKind::pca_whiten) {
        if (first.rows < 2)
            throw Error("normalisation statistics", "pca_whiten decorrelates frequency bins; these inputs have " +
                                                        std::to_string(first.rows) +
                                                        " (a waveform model?): use global, per_sample or mean");
        const auto add = [](RunningCovariance& stats, const dsp::FloatMatrix& m) { stats.add(m); };
        return Normalization::from_covariance(
            accumulate<RunningCovariance>(dataset, train, features, first, first.rows, add, threads), options.method,
            options.eps);
    }
    const std::size_t bins = kind == NormalizationKind::global ? 1 : first.rows;
    const auto add = [kind](RunningStats& stats, const dsp::FloatMatrix& m) {
        if (kind == NormalizationKind::global)
            stats.add(std::span<const float>(m.data));
        else
            stats.add(m);
    };
    return Normalization::from_stats(accumulate<RunningStats>(dataset, train, features, first, bins, add, threads),
                                     kind);
}

}  // namespace mtag::data
