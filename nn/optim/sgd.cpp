// SGD / momentum / Nesterov; see sgd.hpp.
#include "nn/optim/sgd.hpp"

#include "dsp/error.hpp"

namespace mtag::nn {
namespace {
OptimizerCommon common(const SgdOptions& o) { return {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm}; }
std::vector<std::string> buffers(const SgdOptions& o) {
    return o.momentum != 0 ? std::vector<std::string>{"momentum_buffer"} : std::vector<std::string>{};
}
}  // namespace

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer("sgd", std::move(groups), common(options), buffers(options)), m_o(options) {
    require_optim_range(m_o.momentum, 0, 1, "sgd", "momentum", false, true);
    require_optim_range(m_o.dampening, 0, 1, "sgd", "dampening");
    if (m_o.nesterov && (m_o.momentum <= 0 || m_o.dampening != 0))
        throw Error("sgd option nesterov", "needs momentum > 0 and dampening = 0 (got momentum " +
                                               std::to_string(m_o.momentum) + ", dampening " +
                                               std::to_string(m_o.dampening) + ")");
}

void Sgd::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const float neg_lr = static_cast<float>(-lr);
    if (m_o.momentum == 0) {
        for (std::size_t i = 0; i < n; ++i) p[i] += neg_lr * g[i];
        return;
    }
    const float mu = static_cast<float>(m_o.momentum);
    const float keep = static_cast<float>(1.0 - m_o.dampening);
    float* v = slot.buffers[0].data();
    const bool first = slot.step == 1;  // torch creates the buffer as a copy of d on first use
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = first ? g[i] : v[i] * mu + keep * g[i];
        const float d = m_o.nesterov ? g[i] + mu * v[i] : v[i];
        p[i] += neg_lr * d;
    }
}

}  // namespace mtag::nn
