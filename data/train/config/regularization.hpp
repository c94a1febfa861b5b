#pragma once
// The "regularization" section of `mtag train`'s config: penalties and constraints that work the same
// under any optimizer (nn/train/regularization.hpp applies them around each step), and the loss's label
// smoothing. Which to use when: `optimizer.weight_decay` (+ `decay_mode` l2 | l1 | decoupled) is torch's
// per-optimizer option, one kind at a time (decoupled = AdamW's rule, with any optimizer); this section's
// penalties combine (l1 and l2 together = elastic net). Setting the same term in both places is an error.
// Gradient clipping by norm is the top-level `max_grad_norm`.
#include "nn/optim/factory.hpp"
#include "nn/train/regularization.hpp"

#include <optional>
#include <string>

namespace mtag::data {

// scikit-learn's elastic-net parametrisation: l1 = alpha * l1_ratio, l2 = alpha * (1 - l1_ratio).
struct ElasticNetConfig {
    double alpha = 0;
    double l1_ratio = 0.5;

    template <class V>
    void visit(V& v) {
        v.field("alpha", alpha, "overall penalty strength");
        v.field("l1_ratio", l1_ratio, "share of it that is L1, in [0, 1]");
    }
};

struct RegularizationConfig {
    double l1 = 0;
    double l2 = 0;
    std::optional<ElasticNetConfig> elastic_net;
    bool decay_bias_and_norm = false;
    double max_norm = 0;
    double clip_grad_value = 0;
    double label_smoothing = 0;

    template <class V>
    void visit(V& v) {
        v.field("l1", l1, "L1 penalty l1 * sum|w| on weights (gradient l1 * sign(w)); 0 = off");
        v.field(
            "l2", l2,
            "L2 penalty (l2 / 2) * sum w^2 on weights (gradient l2 * w, as torch's weight_decay); 0 = off");
        v.section("elastic_net", elastic_net,
                  "{\"alpha\": A, \"l1_ratio\": R} sets l1 = A R and l2 = A (1 - R) (scikit-learn); not with "
                  "l1 / l2");
        v.field("decay_bias_and_norm", decay_bias_and_norm,
                "apply l1 / l2 to biases and BatchNorm parameters too");
        v.field("max_norm", max_norm,
                "after each step, rescale each unit's incoming weights to L2 norm <= max_norm "
                "(torch.renorm); 0 = off");
        v.field("clip_grad_value", clip_grad_value,
                "clamp every gradient to [-v, v] (torch.nn.utils.clip_grad_value_); 0 = off");
        v.field("label_smoothing", label_smoothing,
                "single-label: CrossEntropyLoss's label_smoothing; multi-label: targets y (1 - s) + s / 2");
    }

    // The nn options (elastic_net folded into l1 and l2; clipping by norm from the top-level max_grad_norm).
    nn::RegularizationOptions options(double max_grad_norm) const;
    // Values in range, elastic_net not with l1 / l2, and no term set both here and in the optimizer's
    // weight decay. Throws mtag::Error naming the keys.
    void validate(const nn::OptimizerConfig& optimizer, const std::string& where) const;
};

}  // namespace mtag::data
