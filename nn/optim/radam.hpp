#pragma once
// RAdam: Adam with the variance of the adaptive rate rectified; plain momentum SGD while the
// approximated SMA length rho_t <= 5 (torch 1.13's threshold; the paper's Algorithm 2 uses 4).
// ref: Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"; torch.optim.RAdam.
#include "nn/optim/adam_family.hpp"

namespace mtag::nn {

using RAdamOptions = AdamLikeOptions<>;

class RAdam : public AdamLikeOptimizer<RAdamOptions> {
  public:
    RAdam(std::vector<ParamGroup> groups, RAdamOptions options);
    RAdam(std::vector<Parameter*> params, RAdamOptions options) : RAdam(single_group(std::move(params)), options) {}

  protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;
};

}  // namespace mtag::nn
