// Closed-form decay schedules; see decay.hpp.
#include "nn/schedule/decay.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::nn {

ConstantLr::ConstantLr(ConstantLrOptions options) : m_o(options) { require_positive(m_o.lr, "ConstantLr", "lr"); }

StepLr::StepLr(StepLrOptions options) : m_o(options) {
    require_positive(m_o.lr, "StepLr", "lr");
    require_positive(static_cast<double>(m_o.step_size), "StepLr", "step_size");
    require_positive(m_o.gamma, "StepLr", "gamma");
}

double StepLr::lr_at(std::int64_t t) const {
    return m_o.lr * std::pow(m_o.gamma, static_cast<double>(t / m_o.step_size));
}

MultiStepLr::MultiStepLr(MultiStepLrOptions options) : m_o(std::move(options)) {
    require_positive(m_o.lr, "MultiStepLr", "lr");
    require_positive(m_o.gamma, "MultiStepLr", "gamma");
    if (!std::is_sorted(m_o.milestones.begin(), m_o.milestones.end()))
        throw Error("MultiStepLr option milestones", "must be sorted ascending");
}

double MultiStepLr::lr_at(std::int64_t t) const {
    const auto passed = std::upper_bound(m_o.milestones.begin(), m_o.milestones.end(), t) - m_o.milestones.begin();
    return m_o.lr * std::pow(m_o.gamma, static_cast<double>(passed));
}

ExponentialLr::ExponentialLr(ExponentialLrOptions options) : m_o(options) {
    require_positive(m_o.lr, "ExponentialLr", "lr");
    require_positive(m_o.gamma, "ExponentialLr", "gamma");
}

double ExponentialLr::lr_at(std::int64_t t) const { return m_o.lr * std::pow(m_o.gamma, static_cast<double>(t)); }

ExponentialDecay::ExponentialDecay(ExponentialDecayOptions options) : m_o(options) {
    require_positive(m_o.lr, "ExponentialDecay", "lr");
    require_non_negative(m_o.k, "ExponentialDecay", "k");
}

double ExponentialDecay::lr_at(std::int64_t t) const { return m_o.lr * std::exp(-m_o.k * static_cast<double>(t)); }

InverseTimeDecay::InverseTimeDecay(InverseTimeDecayOptions options) : m_o(options) {
    require_positive(m_o.lr, "InverseTimeDecay", "lr");
    require_non_negative(m_o.k, "InverseTimeDecay", "k");
}

double InverseTimeDecay::lr_at(std::int64_t t) const { return m_o.lr / (1.0 + m_o.k * static_cast<double>(t)); }

}  // namespace mtag::nn
