#include "data/train/config/regularization.hpp"

#include "dsp/error.hpp"

#include <cmath>

namespace mtag::data {

nn::RegularizationOptions RegularizationConfig::options(double max_grad_norm) const {
    nn::RegularizationOptions o{.l1 = l1,
                                .l2 = l2,
                                .decay_bias_and_norm = decay_bias_and_norm,
                                .max_norm = max_norm,
                                .clip_grad_norm = max_grad_norm,
                                .clip_grad_value = clip_grad_value};
    if (elastic_net) {
        o.l1 = elastic_net->alpha * elastic_net->l1_ratio;
        o.l2 = elastic_net->alpha * (1 - elastic_net->l1_ratio);
    }
    return o;
}

void RegularizationConfig::validate(const nn::OptimizerConfig& optimizer, const std::string& where) const {
    auto check = [&](double value, const char* key, double hi) {
        if (!std::isfinite(value) || value < 0 || value > hi)
            throw Error(
                where + ": regularization." + key,
                "got " + std::to_string(value) + ", expected " +
                    (std::isinf(hi) ? std::string(">= 0 (0 = off)") : "in [0, " + std::to_string(hi) + "]"));
    };
    const double inf = INFINITY;
    check(l1, "l1", inf);
    check(l2, "l2", inf);
    check(max_norm, "max_norm", inf);
    check(clip_grad_value, "clip_grad_value", inf);
    check(label_smoothing, "label_smoothing", 1.0);
    if (elastic_net) {
        if (l1 > 0 || l2 > 0)
            throw Error(where + ": regularization.elastic_net",
                        "give either elastic_net {alpha, l1_ratio} or regularization.l1 / l2, not both");
        check(elastic_net->alpha, "elastic_net.alpha", inf);
        check(elastic_net->l1_ratio, "elastic_net.l1_ratio", 1.0);
    }
    // One term, one place: the optimizer's weight decay of the same kind would add it twice.
    const nn::RegularizationOptions o = options(0);
    if (optimizer.weight_decay() > 0) {
        const nn::WeightDecayMode mode = optimizer.decay_mode();
        const char* twin = mode == nn::WeightDecayMode::l1   ? "l1"
                           : mode == nn::WeightDecayMode::l2 ? "l2"
                                                             : nullptr;
        const double same = mode == nn::WeightDecayMode::l1   ? o.l1
                            : mode == nn::WeightDecayMode::l2 ? o.l2
                                                              : 0.0;
        if (twin && same > 0)
            throw Error(
                where + ": optimizer.weight_decay (decay_mode " + twin + ") and regularization." + twin +
                    (elastic_net ? " (from elastic_net)" : ""),
                "both add the same penalty; set it in one place (optimizer.weight_decay for torch's option, "
                "the regularization section to combine L1 and L2)");
    }
}

}  // namespace mtag::data
