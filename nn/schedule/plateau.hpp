#pragma once
// Reduce the rate when a monitored value stops improving.
// ref: torch.optim.lr_scheduler.ReduceLROnPlateau (same options, defaults and counters).
#include "nn/schedule/lr_schedule.hpp"

namespace mtag::nn {

enum class MonitorMode { min, max };        // min for a loss, max for ROC-AUC
enum class ThresholdMode { rel, abs };      // improvement relative to best, or absolute

struct ReduceOnPlateauOptions {
    double lr = 1e-3;
    MonitorMode mode = MonitorMode::min;
    double factor = 0.1;  // new_lr = max(lr * factor, min_lr)
    std::int64_t patience = 10;  // bad steps tolerated; the rate drops on bad step patience+1
    double threshold = 1e-4;
    ThresholdMode threshold_mode = ThresholdMode::rel;
    std::int64_t cooldown = 0;  // steps after a reduction during which bad steps are not counted
    double min_lr = 0;
    double eps = 1e-8;  // reductions smaller than eps are ignored
};

// Stateful: step(metric) once per evaluation; step() without a value throws.
class ReduceOnPlateau : public LrSchedule {
public:
    explicit ReduceOnPlateau(ReduceOnPlateauOptions options);
    double lr() const override { return m_lr; }
    void step() override;
    void step(double metric) override;
    std::string kind() const override { return "reduce_on_plateau"; }
    nlohmann::json state() const override;
    void load_state(const nlohmann::json& state) override;
    // Best value seen so far (+-inf before the first step).
    double best() const { return m_best; }
    // Bad steps since the last improvement or reduction.
    std::int64_t num_bad_epochs() const { return m_bad; }

protected:
    double lr_at(std::int64_t) const override { return m_lr; }

private:
    bool is_better(double a) const;
    ReduceOnPlateauOptions m_o;
    double m_lr;
    double m_best;
    std::int64_t m_bad = 0;
    std::int64_t m_cooldown_counter = 0;
};

}  // namespace mtag::nn
