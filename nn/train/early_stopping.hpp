#pragma once
// Early stopping on a monitored validation value (loss: mode min; ROC-AUC: mode max), keeping a
// snapshot of the best weights. An epoch improves when it beats the best by MORE than min_delta
// (Keras EarlyStopping semantics); after `patience` epochs in a row without improvement,
// should_stop() turns true (patience 3: improvement at epoch 0, epochs 1, 2, 3 bad -> stop after 3).
#include "nn/parameter.hpp"
#include "nn/schedule/plateau.hpp"  // MonitorMode

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

struct EarlyStoppingOptions {
    MonitorMode mode = MonitorMode::min;
    std::int64_t patience = 10;
    double min_delta = 0;  // absolute improvement required
    bool keep_best_weights = true;
};

class EarlyStopping {
public:
    // `params` are the weights to snapshot; may be empty when keep_best_weights is false.
    EarlyStopping(EarlyStoppingOptions options, std::vector<Parameter*> params);

    // Records one epoch's monitored value; returns true if it improved (the snapshot is then refreshed).
    // NaN never improves.
    bool update(double value);
    // True once `patience` consecutive epochs have not improved.
    bool should_stop() const { return m_bad >= m_o.patience; }
    // Copies the best snapshot back into the parameters (no-op before the first improvement).
    void restore_best() const;
    // Starts a new patience window (used after "reload best and decay"); the best value is kept.
    void reset_patience() { m_bad = 0; }

    double best() const { return m_best; }
    std::int64_t best_epoch() const { return m_best_epoch; }
    std::int64_t bad_epochs() const { return m_bad; }
    std::int64_t epochs_seen() const { return m_epochs; }
    bool has_best() const { return m_best_epoch >= 0; }
    const EarlyStoppingOptions& options() const { return m_o; }

    // Counters as JSON; the best weights as tensors named "<parameter name>".
    nlohmann::json state() const;
    std::vector<std::pair<std::string, Tensor>> best_weights() const;
    // Restores both (tensor names and shapes must match the parameters).
    void load_state(const nlohmann::json& state, const std::vector<std::pair<std::string, Tensor>>& best);

private:
    EarlyStoppingOptions m_o;
    std::vector<Parameter*> m_params;
    std::vector<Tensor> m_best_values;
    double m_best;
    std::int64_t m_best_epoch = -1;
    std::int64_t m_bad = 0;
    std::int64_t m_epochs = 0;
};

}  // namespace mtag::nn
