#pragma once
// RMSProp with optional momentum and the centred variant.
// ref: Hinton, Coursera lecture 6e; Graves 2013 (centred); torch.optim.RMSprop:
//      v = alpha v + (1-alpha) g^2; centred: m = alpha m + (1-alpha) g, a = sqrt(v - m^2) else a = sqrt(v);
//      a += eps (outside the root); momentum: b = mu b + g/a, p -= lr b; else p -= lr g/a.
#include "nn/optim/optimizer.hpp"

namespace mtag::nn {

struct RmspropOptions {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double momentum = 0;
    bool centered = false;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;
};

class Rmsprop : public Optimizer {
public:
    Rmsprop(std::vector<ParamGroup> groups, RmspropOptions options);
    Rmsprop(std::vector<Parameter*> params, RmspropOptions options) : Rmsprop(single_group(std::move(params)), options) {}
    std::string kind() const override { return "rmsprop"; }

protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;

private:
    RmspropOptions m_o;
};

}  // namespace mtag::nn
