#pragma once
// Cyclical learning rates and the one-cycle policy.
// ref: Smith 2017, "Cyclical Learning Rates for Training Neural Networks"; torch CyclicLR.
// ref: Smith & Topin 2018, "Super-Convergence"; torch OneCycleLR.
// Momentum cycling (torch's cycle_momentum) is not applied: these schedules set the rate only.
#include "nn/schedule/lr_schedule.hpp"

namespace mtag::nn {

enum class CyclicMode { triangular, triangular2, exp_range };

// Rate between base_lr and max_lr over cycles of step_size_up + step_size_down steps.
struct CyclicLrOptions {
    double base_lr = 1e-3;
    double max_lr = 6e-3;
    std::int64_t step_size_up = 2000;
    std::int64_t step_size_down = 0;  // 0: same as step_size_up (torch's None)
    CyclicMode mode = CyclicMode::triangular;
    double gamma = 1.0;  // exp_range only: amplitude scaled by gamma^t
};
class CyclicLr : public LrSchedule {
public:
    explicit CyclicLr(CyclicLrOptions options);
    std::string kind() const override { return "cyclic"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    CyclicLrOptions m_o;
};

enum class AnnealStrategy { cos, linear };

// Warm up from max_lr/div_factor to max_lr over pct_start of total_steps, then anneal to
// max_lr/(div_factor*final_div_factor); three_phase adds a symmetric decay back to the initial rate first.
// Steps beyond total_steps keep the final rate (torch raises instead).
struct OneCycleLrOptions {
    double max_lr = 1e-2;
    std::int64_t total_steps = 100;
    double pct_start = 0.3;
    AnnealStrategy anneal_strategy = AnnealStrategy::cos;
    double div_factor = 25;
    double final_div_factor = 1e4;
    bool three_phase = false;
};
class OneCycleLr : public LrSchedule {
public:
    explicit OneCycleLr(OneCycleLrOptions options);
    std::string kind() const override { return "one_cycle"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    OneCycleLrOptions m_o;
};

}  // namespace mtag::nn
