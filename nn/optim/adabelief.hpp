#pragma once
// AdaBelief: Adam with the second moment replaced by the variance of the gradient around its EMA
// ("belief"), s = b2 s + (1-b2)(g - m)^2 + eps.
// ref: Zhuang et al. 2020, "AdaBelief Optimizer", Algorithm 2: eps is added inside s (every step) and
//      again after the bias-corrected root: p -= lr m_hat / (sqrt(s_hat) + eps). torch has no AdaBelief;
//      default eps 1e-16 as the authors' adabelief-pytorch 0.2. Decay: this header's decay_mode (L2 by
//      default; the authors' code defaults to decoupled, pick WeightDecayMode::decoupled for that).
#include "nn/optim/adam_family.hpp"

namespace mtag::nn {

using AdaBeliefOptions = AdamLikeOptions<1e-16>;

class AdaBelief : public AdamLikeOptimizer<AdaBeliefOptions> {
  public:
    AdaBelief(std::vector<ParamGroup> groups, AdaBeliefOptions options);
    AdaBelief(std::vector<Parameter*> params, AdaBeliefOptions options) : AdaBelief(single_group(std::move(params)), options) {}

  protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;
};

}  // namespace mtag::nn
