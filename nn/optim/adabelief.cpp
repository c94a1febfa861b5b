// AdaBelief; see adabelief.hpp.
#include "nn/optim/adabelief.hpp"

#include "nn/optim/adam.hpp"

#include <cmath>

namespace mtag::nn {

AdaBelief::AdaBelief(std::vector<ParamGroup> groups, AdaBeliefOptions o)
    : AdamLikeOptimizer("adabelief", std::move(groups), o, {"exp_avg", "exp_avg_var"}) {}

void AdaBelief::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const AdamStepConstants c(m_o.betas, m_o.eps, slot.step, lr);
    const float bc1 = c.bc1, bc2 = c.bc2, b1 = c.b1, omb1 = c.omb1, b2 = c.b2, omb2 = c.omb2;
    const float eps = c.eps, lrf = c.lr;
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
