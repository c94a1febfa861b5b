#include "nn/loss.hpp"

#include "dsp/error.hpp"

#include <cmath>

namespace mtag::nn {

namespace {
// log(1 + exp(x)) without overflow.
double softplus(double x) {
    return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
double sigmoid(double x) {
    if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
    const double e = std::exp(x);
    return e / (1.0 + e);
}
}  // namespace

BCEWithLogitsLoss::BCEWithLogitsLoss(BCEWithLogitsOptions options) : m_options(std::move(options)) {
    for (float w : m_options.pos_weight)
        if (!(w >= 0.0f)) throw Error("nn::BCEWithLogitsLoss options", "pos_weight entries must be >= 0");
    if (!(m_options.label_smoothing >= 0.0 && m_options.label_smoothing <= 1.0))
        throw Error("nn::BCEWithLogitsLoss options",
                    "label_smoothing = " + std::to_string(m_options.label_smoothing) + ", expected in [0, 1]");
}

double BCEWithLogitsLoss::forward(const Tensor& logits, const Tensor& targets) {
    if (logits.rank() != 2 || !(logits.shape() == targets.shape()))
        throw Error("nn::BCEWithLogitsLoss", "logits " + logits.shape().str() + " and targets " +
                                                 targets.shape().str() + ", expected equal (N, K) shapes");
    const std::int64_t n = logits.dim(0), k = logits.dim(1);
    if (!m_options.pos_weight.empty() && static_cast<std::int64_t>(m_options.pos_weight.size()) != k)
        throw Error("nn::BCEWithLogitsLoss", "pos_weight has " + std::to_string(m_options.pos_weight.size()) +
                                                 " entries, expected " + std::to_string(k) +
                                                 " (one per tag)");
    m_logits = logits;
    m_targets = targets;
    const double ls = m_options.label_smoothing;
    if (ls > 0) {
        m_targets = Tensor::uninitialized(targets.shape());
        for (std::size_t i = 0; i < targets.size(); ++i)
            m_targets[i] = static_cast<float>(targets[i] * (1.0 - ls) + 0.5 * ls);
    }
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < k; ++j) {
            const double x = logits.at(i, j), y = m_targets.at(i, j);
            const double pw =
                m_options.pos_weight.empty() ? 1.0 : m_options.pos_weight[static_cast<std::size_t>(j)];
            total += pw * y * softplus(-x) + (1.0 - y) * softplus(x);
        }
    return total / static_cast<double>(n * k);
}

Tensor BCEWithLogitsLoss::backward() const {
    if (!m_logits.defined()) throw Error("nn::BCEWithLogitsLoss", "backward() called before forward()");
    const std::int64_t n = m_logits.dim(0), k = m_logits.dim(1);
    Tensor g = Tensor::uninitialized(m_logits.shape());
    const double scale = 1.0 / static_cast<double>(n * k);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < k; ++j) {
            const double x = m_logits.at(i, j), y = m_targets.at(i, j);
            const double pw =
                m_options.pos_weight.empty() ? 1.0 : m_options.pos_weight[static_cast<std::size_t>(j)];
            const double s = sigmoid(x);
            g.at(i, j) = static_cast<float>(scale * (pw * y * (s - 1.0) + (1.0 - y) * s));
        }
    return g;
}

CrossEntropyLoss::CrossEntropyLoss(CrossEntropyOptions options) : m_options(options) {
    if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0))
        throw Error("nn::CrossEntropyLoss options",
                    "label_smoothing = " + std::to_string(options.label_smoothing) + ", expected in [0, 1]");
}

double CrossEntropyLoss::forward(const Tensor& logits, std::span<const std::int64_t> targets) {
    if (logits.rank() != 2 || static_cast<std::int64_t>(targets.size()) != logits.dim(0))
        throw Error("nn::CrossEntropyLoss", "logits " + logits.shape().str() + " with " +
                                                std::to_string(targets.size()) +
                                                " targets, expected (N, K) logits and N targets");
    const std::int64_t n = logits.dim(0), k = logits.dim(1);
    m_probabilities = Tensor::uninitialized(logits.shape());
    m_targets.assign(targets.begin(), targets.end());
    const double s = m_options.label_smoothing;
    double total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t t = targets[static_cast<std::size_t>(i)];
        if (t < 0 || t >= k)
            throw Error("nn::CrossEntropyLoss", "target " + std::to_string(t) + " of sample " +
                                                    std::to_string(i) + " outside [0, " + std::to_string(k) +
                                                    ")");
        double mx = logits.at(i, 0);
        for (std::int64_t j = 1; j < k; ++j) mx = std::max(mx, static_cast<double>(logits.at(i, j)));
        double z = 0.0;
        for (std::int64_t j = 0; j < k; ++j) z += std::exp(logits.at(i, j) - mx);
        const double log_z = mx + std::log(z);
        double sum_logp = 0.0;
        for (std::int64_t j = 0; j < k; ++j) {
            const double logp = logits.at(i, j) - log_z;
            sum_logp += logp;
            m_probabilities.at(i, j) = static_cast<float>(std::exp(logp));
        }
        const double logp_t = logits.at(i, t) - log_z;
        total += -(1.0 - s) * logp_t - s / static_cast<double>(k) * sum_logp;
    }
    return total / static_cast<double>(n);
}

Tensor CrossEntropyLoss::backward() const {
    if (!m_probabilities.defined()) throw Error("nn::CrossEntropyLoss", "backward() called before forward()");
    const std::int64_t n = m_probabilities.dim(0), k = m_probabilities.dim(1);
    const double s = m_options.label_smoothing;
    Tensor g = Tensor::uninitialized(m_probabilities.shape());
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < k; ++j) {
            const double q =
                (j == m_targets[static_cast<std::size_t>(i)] ? 1.0 - s : 0.0) + s / static_cast<double>(k);
            g.at(i, j) = static_cast<float>((m_probabilities.at(i, j) - q) / static_cast<double>(n));
        }
    return g;
}

}  // namespace mtag::nn
