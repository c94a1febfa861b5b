// AdaBelief; see adabelief.hpp.
#include "nn/optim/adabelief.hpp"

#include "nn/optim/adam.hpp"

#include <cmath>

namespace mtag::nn {

AdaBelief::AdaBelief(std::vector<ParamGroup> groups, AdaBeliefOptions o)
    : Optimizer("adabelief", std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm},
                {"exp_avg", "exp_avg_var"}),
      m_o(o) {
    check_adam_family(m_o.betas, m_o.eps, "adabelief");
}

void AdaBelief::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const double t = static_cast<double>(slot.step);
    const float bc1 = static_cast<float>(1 - std::pow(m_o.betas[0], t));
    const float bc2 = static_cast<float>(1 - std::pow(m_o.betas[1], t));
    const float b1 = static_cast<float>(m_o.betas[0]), omb1 = static_cast<float>(1 - m_o.betas[0]);
    const float b2 = static_cast<float>(m_o.betas[1]), omb2 = static_cast<float>(1 - m_o.betas[1]);
    const float eps = static_cast<float>(m_o.eps);
    const float lrf = static_cast<float>(lr);
    float* m = slot.buffers[0].data();
    float* s = slot.buffers[1].data();
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = m[i] * b1 + omb1 * g[i];
        const float r = g[i] - m[i];
        s[i] = s[i] * b2 + omb2 * r * r + eps;
        const float m_hat = m[i] / bc1;
        const float s_hat = s[i] / bc2;
        p[i] -= lrf * m_hat / (std::sqrt(s_hat) + eps);
    }
}

}  // namespace mtag::nn
