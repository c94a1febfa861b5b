// EarlyStopping; see early_stopping.hpp.
#include "nn/train/early_stopping.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mtag::nn {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options, std::vector<Parameter*> params)
    : m_o(options),
      m_params(std::move(params)),
      m_best(options.mode == MonitorMode::min ? std::numeric_limits<double>::infinity()
                                              : -std::numeric_limits<double>::infinity()) {
    if (m_o.patience < 1) throw Error("early stopping option patience", "got " + std::to_string(m_o.patience) + ", expected >= 1");
    if (!(m_o.min_delta >= 0)) throw Error("early stopping option min_delta", "got " + std::to_string(m_o.min_delta) + ", expected >= 0");
    if (m_o.keep_best_weights)
        for (const Parameter* p : m_params) m_best_values.emplace_back(p->value.shape());
}

bool EarlyStopping::update(double value) {
    ++m_epochs;
    const bool better = m_o.mode == MonitorMode::min ? value + m_o.min_delta < m_best : value - m_o.min_delta > m_best;
    if (!better) {  // NaN lands here
        ++m_bad;
        return false;
    }
    m_best = value;
    m_best_epoch = m_epochs - 1;
    m_bad = 0;
    if (m_o.keep_best_weights)
        for (std::size_t i = 0; i < m_params.size(); ++i) m_best_values[i].copy_from(m_params[i]->value);
    return true;
}

void EarlyStopping::restore_best() const {
    if (!m_o.keep_best_weights || !has_best()) return;
    for (std::size_t i = 0; i < m_params.size(); ++i) m_params[i]->value.copy_from(m_best_values[i]);
}

nlohmann::json EarlyStopping::state() const {
    return {{"best", std::isfinite(m_best) ? nlohmann::json(m_best) : nlohmann::json(nullptr)},
            {"best_epoch", m_best_epoch},
            {"bad_epochs", m_bad},
            {"epochs", m_epochs}};
}

std::vector<std::pair<std::string, Tensor>> EarlyStopping::best_weights() const {
    std::vector<std::pair<std::string, Tensor>> out;
    for (std::size_t i = 0; i < m_best_values.size(); ++i) out.emplace_back(m_params[i]->name, m_best_values[i].clone());
    return out;
}

void EarlyStopping::load_state(const nlohmann::json& state, const std::vector<std::pair<std::string, Tensor>>& best) {
    if (m_o.keep_best_weights) {
        // Looked up by name: a checkpoint file may list tensors in any order.
        std::vector<const Tensor*> found;
        for (const Parameter* p : m_params) {
            auto it = std::find_if(best.begin(), best.end(), [&](const auto& t) { return t.first == p->name; });
            if (it == best.end())
                throw Error("early stopping state", "best-weight tensor '" + p->name + "' missing");
            if (!(it->second.shape() == p->value.shape()))
                throw Error("early stopping state", "best-weight tensor '" + p->name + "' has shape " +
                                                        it->second.shape().str() + ", expected " + p->value.shape().str());
            found.push_back(&it->second);
        }
        for (std::size_t i = 0; i < m_params.size(); ++i) m_best_values[i].copy_from(*found[i]);
    }
    const auto& b = state.at("best");
    m_best = b.is_null() ? (m_o.mode == MonitorMode::min ? std::numeric_limits<double>::infinity()
                                                         : -std::numeric_limits<double>::infinity())
                         : b.get<double>();
    m_best_epoch = state.at("best_epoch").get<std::int64_t>();
    m_bad = state.at("bad_epochs").get<std::int64_t>();
    m_epochs = state.at("epochs").get<std::int64_t>();
}

}  // namespace mtag::nn
