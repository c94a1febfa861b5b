#pragma once
// RAdam: Adam with the variance of the adaptive rate rectified; plain momentum SGD while the
// approximated SMA length rho_t <= 5 (torch 1.13's threshold; the paper's Algorithm 2 uses 4).
// ref: Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"; torch.optim.RAdam.
#include "nn/optim/optimizer.hpp"

#include <array>

namespace mtag::nn {

struct RAdamOptions {
    double lr = 1e-3;
    std::array<double, 2> betas = {0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;
};

class RAdam : public Optimizer {
public:
    RAdam(std::vector<ParamGroup> groups, RAdamOptions options);
    RAdam(std::vector<Parameter*> params, RAdamOptions options) : RAdam(single_group(std::move(params)), options) {}
    std::string kind() const override { return "radam"; }

protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;

private:
    RAdamOptions m_o;
};

}  // namespace mtag::nn
