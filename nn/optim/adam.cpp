// Adam / AMSGrad / AdamW; see adam.hpp.
#include "nn/optim/adam.hpp"

#include "nn/threads.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::nn {
namespace {
std::vector<std::string> buffers(const AdamOptions& o) {
    std::vector<std::string> b{"exp_avg", "exp_avg_sq"};
    if (o.amsgrad) b.push_back("max_exp_avg_sq");
    return b;
}
AdamOptions from_adamw(const AdamWOptions& o) {
    return {.lr = o.lr,
            .betas = o.betas,
            .eps = o.eps,
            .amsgrad = o.amsgrad,
            .weight_decay = o.weight_decay,
            .decay_mode = WeightDecayMode::decoupled,
            .decay_bias_and_norm = o.decay_bias_and_norm};
}
}  // namespace

void check_adam_family(const std::array<double, 2>& betas, double eps, const char* optimizer) {
    require_optim_range(betas[0], 0, 1, optimizer, "betas[0]", false, true);
    require_optim_range(betas[1], 0, 1, optimizer, "betas[1]", false, true);
    require_optim_range(eps, 0, 1, optimizer, "eps");
}

void set_adam_beta1(std::array<double, 2>& betas, double beta1, const std::string& optimizer) {
    require_optim_range(beta1, 0, 1, optimizer.c_str(), "betas[0] (set_momentum)", false, true);
    betas[0] = beta1;
}

AdamStepConstants::AdamStepConstants(const std::array<double, 2>& betas, double eps_, std::int64_t step,
                                     double lr_)
    : bc1(static_cast<float>(1 - std::pow(betas[0], static_cast<double>(step)))),
      bc2(static_cast<float>(1 - std::pow(betas[1], static_cast<double>(step)))),
      b1(static_cast<float>(betas[0])),
      omb1(static_cast<float>(1 - betas[0])),
      b2(static_cast<float>(betas[1])),
      omb2(static_cast<float>(1 - betas[1])),
      eps(static_cast<float>(eps_)),
      lr(static_cast<float>(lr_)) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions o) : Adam(std::move(groups), o, "adam") {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions o, std::string kind)
    : Optimizer(kind, std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm},
                buffers(o)),
      m_o(o),
      m_kind(std::move(kind)) {
    check_adam_family(m_o.betas, m_o.eps, m_kind.c_str());
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions o)
    : Adam(std::move(groups), from_adamw(o), "adamw") {}

void Adam::update(Slot& slot, float* p, const float* g, std::size_t n, double lr) {
    const double t = static_cast<double>(slot.step);
    const double bc1 = 1 - std::pow(m_o.betas[0], t);
    const double bc2 = 1 - std::pow(m_o.betas[1], t);
    const float neg_step = static_cast<float>(-(lr / bc1));
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    const float b1 = static_cast<float>(m_o.betas[0]), omb1 = static_cast<float>(1 - m_o.betas[0]);
    const float b2 = static_cast<float>(m_o.betas[1]), omb2 = static_cast<float>(1 - m_o.betas[1]);
    const float eps = static_cast<float>(m_o.eps);
    float* m = slot.buffers[0].data();
    float* v = slot.buffers[1].data();
    float* vmax = m_o.amsgrad ? slot.buffers[2].data() : nullptr;
    // Element by element, so splitting over the pool gives the same bits with any thread count. Captured by
    // value: through references, every store to m, v or p could alias the float constants, and GCC then
    // reloaded them each element and left the loop scalar (measured 10% slower training steps).
    parallel_for(static_cast<std::int64_t>(n), 8192, [=](std::int64_t i0, std::int64_t i1) {
        for (auto i = static_cast<std::size_t>(i0); i < static_cast<std::size_t>(i1); ++i) {
            m[i] = m[i] * b1 + omb1 * g[i];
            v[i] = v[i] * b2 + omb2 * g[i] * g[i];
            float second = v[i];
            if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
            const float denom = std::sqrt(second) / bc2_sqrt + eps;
            p[i] += neg_step * (m[i] / denom);
        }
    });
}

void Adam::set_momentum(double beta1) {
    set_adam_beta1(m_o.betas, beta1, kind());
}

}  // namespace mtag::nn
