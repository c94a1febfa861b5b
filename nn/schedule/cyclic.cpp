// Cyclic and one-cycle schedules; see cyclic.hpp.
#include "nn/schedule/cyclic.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mtag::nn {

CyclicLr::CyclicLr(CyclicLrOptions options) : m_o(options) {
    require_positive(m_o.base_lr, "CyclicLr", "base_lr");
    require_positive(m_o.max_lr, "CyclicLr", "max_lr");
    require_positive(static_cast<double>(m_o.step_size_up), "CyclicLr", "step_size_up");
    require_non_negative(static_cast<double>(m_o.step_size_down), "CyclicLr", "step_size_down");
    require_positive(m_o.gamma, "CyclicLr", "gamma");
    if (m_o.step_size_down == 0) m_o.step_size_down = m_o.step_size_up;
}

double CyclicLr::lr_at(std::int64_t t) const {
    // ref: torch CyclicLR.get_lr: x is the position inside the current cycle in [0, 1).
    const double total = static_cast<double>(m_o.step_size_up + m_o.step_size_down);
    const double ratio = static_cast<double>(m_o.step_size_up) / total;
    const double td = static_cast<double>(t);
    const double cycle = std::floor(1 + td / total);
    const double x = 1. + td / total - cycle;
    const double scale_factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double scale = 1;
    switch (m_o.mode) {
        case CyclicMode::triangular: scale = 1; break;
        case CyclicMode::triangular2: scale = 1 / std::pow(2., cycle - 1); break;
        case CyclicMode::exp_range: scale = std::pow(m_o.gamma, td); break;
    }
    return m_o.base_lr + (m_o.max_lr - m_o.base_lr) * scale_factor * scale;
}

OneCycleLr::OneCycleLr(OneCycleLrOptions options) : m_o(options) {
    require_positive(m_o.max_lr, "OneCycleLr", "max_lr");
    require_positive(static_cast<double>(m_o.total_steps), "OneCycleLr", "total_steps");
    if (!(m_o.pct_start >= 0 && m_o.pct_start <= 1))
        throw Error("OneCycleLr option pct_start", "got " + std::to_string(m_o.pct_start) + ", expected in [0, 1]");
    require_positive(m_o.div_factor, "OneCycleLr", "div_factor");
    require_positive(m_o.final_div_factor, "OneCycleLr", "final_div_factor");
}

double OneCycleLr::lr_at(std::int64_t t) const {
    // ref: torch OneCycleLR.get_lr: phases end at pct_start*total-1 (and 2*pct_start*total-2), total-1.
    const double initial = m_o.max_lr / m_o.div_factor;
    const double min_lr = initial / m_o.final_div_factor;
    const double n = static_cast<double>(m_o.total_steps);
    struct Phase {
        double end_step, start_lr, end_lr;
    };
    Phase phases[3];
    int count = 0;
    phases[count++] = {m_o.pct_start * n - 1, initial, m_o.max_lr};
    if (m_o.three_phase) {
        phases[count++] = {2 * m_o.pct_start * n - 2, m_o.max_lr, initial};
        phases[count++] = {n - 1, initial, min_lr};
    } else {
        phases[count++] = {n - 1, m_o.max_lr, min_lr};
    }
    const double step = static_cast<double>(std::min(t, m_o.total_steps));
    double start_step = 0;
    for (int i = 0; i < count; ++i) {
        const Phase& p = phases[i];
        if (step <= p.end_step || i == count - 1) {
            const double pct = (step - start_step) / (p.end_step - start_step);
            if (m_o.anneal_strategy == AnnealStrategy::cos)
                return p.end_lr + (p.start_lr - p.end_lr) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
            return (p.end_lr - p.start_lr) * pct + p.start_lr;
        }
        start_step = p.end_step;
    }
    return min_lr;  // not reached
}

}  // namespace mtag::nn
