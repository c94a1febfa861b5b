#pragma once
// Stochastic gradient descent with optional momentum (PyTorch form), dampening and Nesterov momentum.
// ref: torch.optim.SGD: d = g (+ decay); v = d on the first step, else v = mu v + (1 - dampening) d;
//      d = d + mu v (Nesterov) or d = v; p -= lr d. Sutskever et al. 2013 for the Nesterov form.
#include "nn/optim/optimizer.hpp"

namespace mtag::nn {

struct SgdOptions {
    double lr = 1e-2;
    double momentum = 0;
    double dampening = 0;
    bool nesterov = false;  // needs momentum > 0 and dampening == 0 (as torch)
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;
};

class Sgd : public Optimizer {
public:
    Sgd(std::vector<ParamGroup> groups, SgdOptions options);
    Sgd(std::vector<Parameter*> params, SgdOptions options) : Sgd(single_group(std::move(params)), options) {}
    std::string kind() const override { return "sgd"; }
    const SgdOptions& options() const { return m_o; }

protected:
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;

private:
    SgdOptions m_o;
};

}  // namespace mtag::nn
