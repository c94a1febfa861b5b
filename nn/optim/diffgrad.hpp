#pragma once
// diffGrad: Adam whose step is scaled per coordinate by a friction coefficient
// xi = 1 / (1 + exp(-|g_{t-1} - g_t|)) (g_0 = 0), small where the gradient barely changes.
// ref: Dubey et al. 2019, "diffGrad: An Optimization Method for Convolutional Neural Networks",
//      Algorithm 1: p -= lr xi m_hat / (sqrt(v_hat) + eps) (eps after the bias correction, as in the
//      paper's box; the authors' code adds eps before it). torch has no diffGrad.
#include "nn/optim/adam_family.hpp"

namespace mtag::nn {

using DiffGradOptions = AdamLikeOptions<>;

class DiffGrad : public AdamLikeOptimizer<DiffGradOptions> {
  public:
    DiffGrad(std::vector<ParamGroup> groups, DiffGradOptions options);
    DiffGrad(std::vector<Parameter*> params, DiffGradOptions options) : DiffGrad(single_group(std::move(params)), options) {}

  protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;
};

}  // namespace mtag::nn
