#pragma once
// AdaGrad: per-coordinate rates from the running sum of squared gradients.
// ref: Duchi, Hazan & Singer 2011; torch.optim.Adagrad: clr = lr / (1 + (t-1) lr_decay);
//      s += g^2; p -= clr g / (sqrt(s) + eps)   (eps outside the root).
#include "nn/optim/optimizer.hpp"

namespace mtag::nn {

struct AdagradOptions {
    double lr = 1e-2;
    double lr_decay = 0;
    double initial_accumulator_value = 0;
    double eps = 1e-10;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;
};

class Adagrad : public Optimizer {
public:
    Adagrad(std::vector<ParamGroup> groups, AdagradOptions options);
    Adagrad(std::vector<Parameter*> params, AdagradOptions options) : Adagrad(single_group(std::move(params)), options) {}
    std::string kind() const override { return "adagrad"; }

protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;

private:
    AdagradOptions m_o;
};

}  // namespace mtag::nn
