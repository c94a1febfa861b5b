// RAdam; see radam.hpp.
#include "nn/optim/radam.hpp"

#include "nn/optim/adam.hpp"

#include <cmath>

namespace mtag::nn {

RAdam::RAdam(std::vector<ParamGroup> groups, RAdamOptions o)
    : AdamLikeOptimizer("radam", std::move(groups), o, {"exp_avg", "exp_avg_sq"}) {}

void RAdam::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const double b1d = m_o.betas[0], b2d = m_o.betas[1];
    const double t = static_cast<double>(slot.step);
    const double bc1 = 1 - std::pow(b1d, t);
    const double bc2 = 1 - std::pow(b2d, t);
    const double rho_inf = 2 / (1 - b2d) - 1;
    const double rho_t = rho_inf - 2 * t * std::pow(b2d, t) / bc2;
    const float b1 = static_cast<float>(b1d), omb1 = static_cast<float>(1 - b1d);
    const float b2 = static_cast<float>(b2d), omb2 = static_cast<float>(1 - b2d);
    const float bc1f = static_cast<float>(bc1);
    const float lrf = static_cast<float>(lr);
    float* m = slot.buffers[0].data();
    float* v = slot.buffers[1].data();
    if (rho_t > 5.) {
        const float rect = static_cast<float>(
            std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)));
        const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
        const float eps = static_cast<float>(m_o.eps);
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = m[i] * b1 + omb1 * g[i];
            v[i] = v[i] * b2 + omb2 * g[i] * g[i];
            const float adaptive = bc2_sqrt / (std::sqrt(v[i]) + eps);
            p[i] -= m[i] / bc1f * lrf * adaptive * rect;
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            m[i] = m[i] * b1 + omb1 * g[i];
            v[i] = v[i] * b2 + omb2 * g[i] * g[i];
            p[i] -= m[i] / bc1f * lrf;
        }
    }
}

}  // namespace mtag::nn
