// diffGrad; see diffgrad.hpp.
#include "nn/optim/diffgrad.hpp"

#include "nn/optim/adam.hpp"

#include <cmath>

namespace mtag::nn {

DiffGrad::DiffGrad(std::vector<ParamGroup> groups, DiffGradOptions o)
    : AdamLikeOptimizer("diffgrad", std::move(groups), o, {"exp_avg", "exp_avg_sq", "previous_grad"}) {}

void DiffGrad::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const AdamStepConstants c(m_o.betas, m_o.eps, slot.step, lr);
    const float bc1 = c.bc1, bc2 = c.bc2, b1 = c.b1, omb1 = c.omb1, b2 = c.b2, omb2 = c.omb2;
    const float eps = c.eps, lrf = c.lr;
    float* m = slot.buffers[0].data();
    float* v = slot.buffers[1].data();
    float* prev = slot.buffers[2].data();
    // Three passes so that the two without exp() vectorise; `prev` holds -|g_{t-1} - g_t|, then its
    // exponential, then g_t. Same float operations as one fused loop.
    for (std::size_t i = 0; i < n; ++i) {
        m[i] = m[i] * b1 + omb1 * g[i];
        v[i] = v[i] * b2 + omb2 * g[i] * g[i];
        prev[i] = -std::fabs(prev[i] - g[i]);
    }
    for (std::size_t i = 0; i < n; ++i) prev[i] = std::exp(prev[i]);
    for (std::size_t i = 0; i < n; ++i) {
        const float xi = 1.0f / (1.0f + prev[i]);
        const float m_hat = m[i] / bc1;
        const float v_hat = v[i] / bc2;
        p[i] -= lrf * xi * m_hat / (std::sqrt(v_hat) + eps);
        prev[i] = g[i];
    }
}

}  // namespace mtag::nn
