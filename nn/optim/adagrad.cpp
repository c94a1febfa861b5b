// AdaGrad; see adagrad.hpp.
#include "nn/optim/adagrad.hpp"

#include <cmath>

namespace mtag::nn {

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions o)
    : Optimizer("adagrad", std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm}, {"sum"}),
      m_o(o) {
    require_optim_range(m_o.lr_decay, 0, 1e6, "adagrad", "lr_decay");
    require_optim_range(m_o.initial_accumulator_value, 0, 1e6, "adagrad", "initial_accumulator_value");
    require_optim_range(m_o.eps, 0, 1, "adagrad", "eps");
    for (Slot& s : slots()) s.buffers[0].fill(static_cast<float>(m_o.initial_accumulator_value));
}

void Adagrad::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const double clr = lr / (1 + static_cast<double>(slot.step - 1) * m_o.lr_decay);
    const float neg_clr = static_cast<float>(-clr);
    const float eps = static_cast<float>(m_o.eps);
    float* s = slot.buffers[0].data();
    for (std::size_t i = 0; i < n; ++i) {
        s[i] += g[i] * g[i];
        p[i] += neg_clr * (g[i] / (std::sqrt(s[i]) + eps));
    }
}

}  // namespace mtag::nn
