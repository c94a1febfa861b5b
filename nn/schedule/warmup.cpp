// Warmup wrapper; see warmup.hpp.
#include "nn/schedule/warmup.hpp"

#include "dsp/error.hpp"

namespace mtag::nn {

Warmup::Warmup(WarmupOptions options, std::unique_ptr<LrSchedule> inner) : m_o(options), m_inner(std::move(inner)) {
    if (!m_inner) throw Error("Warmup", "needs a schedule to wrap (got null)");
    require_non_negative(static_cast<double>(m_o.warmup_steps), "Warmup", "warmup_steps");
    if (!(m_o.start_factor > 0 && m_o.start_factor <= 1))
        throw Error("Warmup option start_factor", "got " + std::to_string(m_o.start_factor) + ", expected in (0, 1]");
}

double Warmup::lr() const {
    if (m_step >= m_o.warmup_steps) return m_inner->lr();
    // ref: torch LinearLR closed form with end_factor 1.
    const double frac = static_cast<double>(m_step) / static_cast<double>(m_o.warmup_steps);
    return m_inner->lr() * (m_o.start_factor + (1.0 - m_o.start_factor) * frac);
}

void Warmup::step() {
    if (m_step >= m_o.warmup_steps) m_inner->step();
    ++m_step;
}

void Warmup::step(double metric) {
    if (m_step >= m_o.warmup_steps) m_inner->step(metric);
    ++m_step;
}

nlohmann::json Warmup::state() const {
    auto s = LrSchedule::state();
    s["inner"] = m_inner->state();
    return s;
}

void Warmup::load_state(const nlohmann::json& state) {
    LrSchedule::load_state(state);
    m_inner->load_state(state.at("inner"));
}

}  // namespace mtag::nn
