// LrSchedule base: step counter and its JSON state.
#include "nn/schedule/lr_schedule.hpp"

#include "dsp/error.hpp"

#include <cmath>

namespace mtag::nn {

nlohmann::json LrSchedule::state() const { return {{"kind", kind()}, {"step", m_step}}; }

void LrSchedule::check_kind(const nlohmann::json& state) const {
    const std::string got = state.value("kind", std::string("<none>"));
    if (got != kind())
        throw Error("lr schedule state", "saved kind is '" + got + "', expected '" + kind() + "'");
}

void LrSchedule::load_state(const nlohmann::json& state) {
    check_kind(state);
    m_step = state.at("step").get<std::int64_t>();
}

void require_positive(double value, const char* schedule, const char* name) {
    if (!(value > 0) || !std::isfinite(value))
        throw Error(std::string(schedule) + " option " + name, "got " + std::to_string(value) + ", expected > 0");
}

void require_non_negative(double value, const char* schedule, const char* name) {
    if (!(value >= 0) || !std::isfinite(value))
        throw Error(std::string(schedule) + " option " + name, "got " + std::to_string(value) + ", expected >= 0");
}

}  // namespace mtag::nn
