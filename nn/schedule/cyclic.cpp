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
    require_non_negative(m_o.base_momentum, "CyclicLr", "base_momentum");
    require_non_negative(m_o.max_momentum, "CyclicLr", "max_momentum");
    if (m_o.step_size_down == 0) m_o.step_size_down = m_o.step_size_up;
}

std::pair<double, double> CyclicLr::shape_at(std::int64_t t) const {
    // ref: torch CyclicLR.get_lr: x is the position inside the current cycle in [0, 1).
    const double total = static_cast<double>(m_o.step_size_up + m_o.step_size_down);
    const double ratio = static_cast<double>(m_o.step_size_up) / total;
    const double td = static_cast<double>(t);
    const double cycle = std::floor(1 + td / total);
    const double x = 1. + td / total - cycle;
    const double scale_factor = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double scale = 1;
    switch (m_o.mode) {
        case CyclicMode::triangular:
            scale = 1;
            break;
        case CyclicMode::triangular2:
            scale = 1 / std::pow(2., cycle - 1);
            break;
        case CyclicMode::exp_range:
            scale = std::pow(m_o.gamma, td);
            break;
    }
    return {scale_factor, scale};
}

double CyclicLr::lr_at(std::int64_t t) const {
    const auto [factor, scale] = shape_at(t);
    return m_o.base_lr + (m_o.max_lr - m_o.base_lr) * factor * scale;
}

std::optional<double> CyclicLr::momentum() const {
    if (!m_o.cycle_momentum) return std::nullopt;
    const auto [factor, scale] = shape_at(m_step);
    return m_o.max_momentum - (m_o.max_momentum - m_o.base_momentum) * factor * scale;
}

OneCycleLr::OneCycleLr(OneCycleLrOptions options) : m_o(options) {
    require_positive(m_o.max_lr, "OneCycleLr", "max_lr");
    require_positive(static_cast<double>(m_o.total_steps), "OneCycleLr", "total_steps");
    if (!(m_o.pct_start >= 0 && m_o.pct_start <= 1))
        throw Error("OneCycleLr option pct_start",
                    "got " + std::to_string(m_o.pct_start) + ", expected in [0, 1]");
    require_positive(m_o.div_factor, "OneCycleLr", "div_factor");
    require_positive(m_o.final_div_factor, "OneCycleLr", "final_div_factor");
    require_non_negative(m_o.base_momentum, "OneCycleLr", "base_momentum");
    require_non_negative(m_o.max_momentum, "OneCycleLr", "max_momentum");
}

double OneCycleLr::value_at(std::int64_t t, int what) const {
    // ref: torch OneCycleLR.get_lr: phases end at pct_start*total-1 (and 2*pct_start*total-2), total-1;
    // momentum runs max -> base -> max while the rate runs initial -> max -> min.
    const double initial = m_o.max_lr / m_o.div_factor;
    const double min_lr = initial / m_o.final_div_factor;
    const double lo_m = m_o.base_momentum, hi_m = m_o.max_momentum;
    const double n = static_cast<double>(m_o.total_steps);
    struct Phase {
        double end_step, start[2], end[2];
    };
    Phase phases[3];
    int count = 0;
    phases[count++] = {m_o.pct_start * n - 1, {initial, hi_m}, {m_o.max_lr, lo_m}};
    if (m_o.three_phase) {
        phases[count++] = {2 * m_o.pct_start * n - 2, {m_o.max_lr, lo_m}, {initial, hi_m}};
        phases[count++] = {n - 1, {initial, hi_m}, {min_lr, hi_m}};
    } else {
        phases[count++] = {n - 1, {m_o.max_lr, lo_m}, {min_lr, hi_m}};
    }
    // The last phase ends at step total_steps - 1; later steps keep its final value (no extrapolation).
    const double step = static_cast<double>(std::min(t, m_o.total_steps - 1));
    double start_step = 0;
    for (int i = 0; i < count; ++i) {
        const Phase& p = phases[i];
        if (step <= p.end_step || i == count - 1) {
            const double pct = (step - start_step) / (p.end_step - start_step);
            const double a = p.start[what], b = p.end[what];
            if (m_o.anneal_strategy == AnnealStrategy::cos)
                return b + (a - b) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
            return (b - a) * pct + a;
        }
        start_step = p.end_step;
    }
    return phases[count - 1].end[what];  // not reached
}

double OneCycleLr::lr_at(std::int64_t t) const {
    return value_at(t, 0);
}

std::optional<double> OneCycleLr::momentum() const {
    if (!m_o.cycle_momentum) return std::nullopt;
    return value_at(m_step, 1);
}

}  // namespace mtag::nn
