// Cosine annealing schedules; see cosine.hpp.
#include "nn/schedule/cosine.hpp"

#include "dsp/error.hpp"

#include <cmath>
#include <numbers>

namespace mtag::nn {

CosineAnnealing::CosineAnnealing(CosineAnnealingOptions options) : m_o(options) {
    require_positive(m_o.lr, "CosineAnnealing", "lr");
    require_positive(static_cast<double>(m_o.t_max), "CosineAnnealing", "t_max");
    require_non_negative(m_o.eta_min, "CosineAnnealing", "eta_min");
}

double CosineAnnealing::lr_at(std::int64_t t) const {
    const double x = std::numbers::pi * static_cast<double>(t) / static_cast<double>(m_o.t_max);
    return m_o.eta_min + (m_o.lr - m_o.eta_min) * (1 + std::cos(x)) / 2;
}

CosineWarmRestarts::CosineWarmRestarts(CosineWarmRestartsOptions options) : m_o(options) {
    require_positive(m_o.lr, "CosineWarmRestarts", "lr");
    require_positive(static_cast<double>(m_o.t_0), "CosineWarmRestarts", "t_0");
    if (m_o.t_mult < 1) throw Error("CosineWarmRestarts option t_mult", "got " + std::to_string(m_o.t_mult) + ", expected >= 1");
    require_non_negative(m_o.eta_min, "CosineWarmRestarts", "eta_min");
}

double CosineWarmRestarts::lr_at(std::int64_t t) const {
    // Walk the cycles like torch's step() does: T_cur counts steps since the last restart.
    std::int64_t t_i = m_o.t_0, t_cur = t;
    while (t_cur >= t_i) {
        t_cur -= t_i;
        t_i *= m_o.t_mult;
    }
    const double x = std::numbers::pi * static_cast<double>(t_cur) / static_cast<double>(t_i);
    return m_o.eta_min + (m_o.lr - m_o.eta_min) * (1 + std::cos(x)) / 2;
}

}  // namespace mtag::nn
