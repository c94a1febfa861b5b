#pragma once
// Losses with PyTorch definitions and mean reduction. forward() returns the loss and caches what
// backward() needs; backward() returns d loss / d logits (already divided by the reduction count).
// ref: torch.nn.BCEWithLogitsLoss, torch.nn.CrossEntropyLoss (label_smoothing as in PyTorch >= 1.10).
#include "nn/tensor.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace mtag::nn {

struct BCEWithLogitsOptions {
    // Per-tag weight of the positive term (length = number of tags), empty for none.
    std::vector<float> pos_weight;
    // Targets y become y * (1 - s) + s / 2 before the loss: torch's CrossEntropyLoss convention
    // (1 - s) * one_hot + s / K with K = 2 classes per tag (present / absent), which is also Keras's
    // BinaryCrossentropy(label_smoothing=s). torch.nn.BCEWithLogitsLoss has no such option; a torch user
    // writes exactly this smoothing of the targets. In [0, 1].
    double label_smoothing = 0.0;
};

// Multi-label binary cross-entropy on logits (N, K) against targets in [0, 1] of the same shape:
// mean over N*K of pw*y*softplus(-x) + (1-y)*softplus(x), computed without overflow for any x.
class BCEWithLogitsLoss {
  public:
    explicit BCEWithLogitsLoss(BCEWithLogitsOptions options = {});
    double forward(const Tensor& logits, const Tensor& targets);
    Tensor backward() const;

  private:
    BCEWithLogitsOptions m_options;
    Tensor m_logits, m_targets;
};

struct CrossEntropyOptions {
    double label_smoothing = 0.0;  // target = (1 - s) * one_hot + s / K
};

// Single-label softmax cross-entropy on logits (N, K) against class indices in [0, K).
class CrossEntropyLoss {
  public:
    explicit CrossEntropyLoss(CrossEntropyOptions options = {});
    double forward(const Tensor& logits, std::span<const std::int64_t> targets);
    Tensor backward() const;

  private:
    CrossEntropyOptions m_options;
    Tensor m_probabilities;  // softmax of the last logits
    std::vector<std::int64_t> m_targets;
};

}  // namespace mtag::nn
