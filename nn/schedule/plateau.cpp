// ReduceOnPlateau; see plateau.hpp.
#include "nn/schedule/plateau.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mtag::nn {
namespace {
double worst(MonitorMode mode) {
    return mode == MonitorMode::min ? std::numeric_limits<double>::infinity()
                                    : -std::numeric_limits<double>::infinity();
}
}  // namespace

ReduceOnPlateau::ReduceOnPlateau(ReduceOnPlateauOptions options)
    : m_o(options), m_lr(options.lr), m_best(worst(options.mode)) {
    require_positive(m_o.lr, "ReduceOnPlateau", "lr");
    if (!(m_o.factor > 0 && m_o.factor < 1))
        throw Error("ReduceOnPlateau option factor", "got " + std::to_string(m_o.factor) + ", expected in (0, 1)");
    require_non_negative(static_cast<double>(m_o.patience), "ReduceOnPlateau", "patience");
    require_non_negative(m_o.threshold, "ReduceOnPlateau", "threshold");
    require_non_negative(static_cast<double>(m_o.cooldown), "ReduceOnPlateau", "cooldown");
    require_non_negative(m_o.min_lr, "ReduceOnPlateau", "min_lr");
    require_non_negative(m_o.eps, "ReduceOnPlateau", "eps");
}

bool ReduceOnPlateau::is_better(double a) const {
    if (m_o.mode == MonitorMode::min)
        return m_o.threshold_mode == ThresholdMode::rel ? a < m_best * (1. - m_o.threshold) : a < m_best - m_o.threshold;
    return m_o.threshold_mode == ThresholdMode::rel ? a > m_best * (m_o.threshold + 1.) : a > m_best + m_o.threshold;
}

void ReduceOnPlateau::step() {
    throw Error("ReduceOnPlateau", "step() needs the monitored value: call step(metric)");
}

void ReduceOnPlateau::step(double metric) {
    // ref: torch ReduceLROnPlateau.step, counter for counter.
    ++m_step;
    if (is_better(metric)) {
        m_best = metric;
        m_bad = 0;
    } else {
        ++m_bad;
    }
    if (m_cooldown_counter > 0) {
        --m_cooldown_counter;
        m_bad = 0;
    }
    if (m_bad > m_o.patience) {
        const double new_lr = std::max(m_lr * m_o.factor, m_o.min_lr);
        if (m_lr - new_lr > m_o.eps) m_lr = new_lr;
        m_cooldown_counter = m_o.cooldown;
        m_bad = 0;
    }
}

nlohmann::json ReduceOnPlateau::state() const {
    auto s = LrSchedule::state();
    s["lr"] = m_lr;
    // JSON has no infinity: an unset best is written as null.
    s["best"] = std::isfinite(m_best) ? nlohmann::json(m_best) : nlohmann::json(nullptr);
    s["num_bad_epochs"] = m_bad;
    s["cooldown_counter"] = m_cooldown_counter;
    return s;
}

void ReduceOnPlateau::load_state(const nlohmann::json& state) {
    LrSchedule::load_state(state);
    m_lr = state.at("lr").get<double>();
    m_best = state.at("best").is_null() ? worst(m_o.mode) : state.at("best").get<double>();
    m_bad = state.at("num_bad_epochs").get<std::int64_t>();
    m_cooldown_counter = state.at("cooldown_counter").get<std::int64_t>();
}

}  // namespace mtag::nn
