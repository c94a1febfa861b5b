// diffGrad; see diffgrad.hpp.
#include "nn/optim/diffgrad.hpp"

#include "nn/optim/adam.hpp"

#include <cmath>

namespace mtag::nn {

DiffGrad::DiffGrad(std::vector<ParamGroup> groups, DiffGradOptions o)
    : Optimizer("diffgrad", std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm},
                {"exp_avg", "exp_avg_sq", "previous_grad"}),
      m_o(o) {
    check_adam_family(m_o.betas, m_o.eps, "diffgrad");
}

void DiffGrad::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const double t = static_cast<double>(slot.step);
    const float bc1 = static_cast<float>(1 - std::pow(m_o.betas[0], t));
    const float bc2 = static_cast<float>(1 - std::pow(m_o.betas[1], t));
    const float b1 = static_cast<float>(m_o.betas[0]), omb1 = static_cast<float>(1 - m_o.betas[0]);
    const float b2 = static_cast<float>(m_o.betas[1]), omb2 = static_cast<float>(1 - m_o.betas[1]);
    const float eps = static_cast<float>(m_o.eps);
    const float lrf = static_cast<float>(lr);
    float* m = slot.buffers[0].data();
    float* v = slot.buffers[1].data();
    float* prev = slot.buffers[2].data();
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = m[i] * b1 + omb1 * g[i];
        v[i] = v[i] * b2 + omb2 * g[i] * g[i];
        const float xi = 1.0f / (1.0f + std::exp(-std::fabs(prev[i] - g[i])));
        const float m_hat = m[i] / bc1;
        const float v_hat = v[i] / bc2;
        p[i] -= lrf * xi * m_hat / (std::sqrt(v_hat) + eps);
        prev[i] = g[i];
    }
}

}  // namespace mtag::nn
