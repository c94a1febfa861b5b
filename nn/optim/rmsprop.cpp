// RMSProp; see rmsprop.hpp.
#include "nn/optim/rmsprop.hpp"

#include <cmath>

namespace mtag::nn {
namespace {
// Buffers: square_avg always, then momentum_buffer and grad_avg when enabled (torch's state names).
std::vector<std::string> buffers(const RmspropOptions& o) {
    std::vector<std::string> b{"square_avg"};
    if (o.momentum > 0) b.push_back("momentum_buffer");
    if (o.centered) b.push_back("grad_avg");
    return b;
}
}  // namespace

Rmsprop::Rmsprop(std::vector<ParamGroup> groups, RmspropOptions o)
    : Optimizer("rmsprop", std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm}, buffers(o)),
      m_o(o) {
    require_optim_range(m_o.alpha, 0, 1, "rmsprop", "alpha");
    require_optim_range(m_o.eps, 0, 1, "rmsprop", "eps");
    require_optim_range(m_o.momentum, 0, 1, "rmsprop", "momentum", false, true);
}

void Rmsprop::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const float alpha = static_cast<float>(m_o.alpha);
    const float one_minus_alpha = static_cast<float>(1.0 - m_o.alpha);
    const float eps = static_cast<float>(m_o.eps);
    const float mu = static_cast<float>(m_o.momentum);
    const float neg_lr = static_cast<float>(-lr);
    float* sq = slot.buffers[0].data();
    float* buf = m_o.momentum > 0 ? slot.buffers[1].data() : nullptr;
    float* gavg = m_o.centered ? slot.buffers.back().data() : nullptr;
    for (std::size_t i = 0; i < n; ++i) {
        sq[i] = sq[i] * alpha + one_minus_alpha * g[i] * g[i];
        float avg;
        if (gavg) {
            gavg[i] = gavg[i] * alpha + one_minus_alpha * g[i];
            avg = std::sqrt(sq[i] - gavg[i] * gavg[i]);
        } else {
            avg = std::sqrt(sq[i]);
        }
        avg += eps;
        if (buf) {
            buf[i] = buf[i] * mu + g[i] / avg;
            p[i] += neg_lr * buf[i];
        } else {
            p[i] += neg_lr * (g[i] / avg);
        }
    }
}

}  // namespace mtag::nn
