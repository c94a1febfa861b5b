#pragma once
// Closed-form decays: constant, step, multi-step, exponential (gamma and e^-kt forms), inverse time.
// ref: torch.optim.lr_scheduler (StepLR, MultiStepLR, ExponentialLR); inverse time as Keras InverseTimeDecay.
#include "nn/schedule/lr_schedule.hpp"

#include <vector>

namespace mtag::nn {

// lr at every step.
struct ConstantLrOptions {
    double lr = 1e-3;
};
class ConstantLr : public LrSchedule {
public:
    explicit ConstantLr(ConstantLrOptions options);
    std::string kind() const override { return "constant"; }

protected:
    double lr_at(std::int64_t) const override { return m_o.lr; }

private:
    ConstantLrOptions m_o;
};

// lr * gamma^floor(t / step_size)  (torch StepLR).
struct StepLrOptions {
    double lr = 1e-3;
    std::int64_t step_size = 10;
    double gamma = 0.1;
};
class StepLr : public LrSchedule {
public:
    explicit StepLr(StepLrOptions options);
    std::string kind() const override { return "step"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    StepLrOptions m_o;
};

// lr * gamma^(number of milestones <= t)  (torch MultiStepLR; milestones sorted ascending).
struct MultiStepLrOptions {
    double lr = 1e-3;
    std::vector<std::int64_t> milestones;
    double gamma = 0.1;
};
class MultiStepLr : public LrSchedule {
public:
    explicit MultiStepLr(MultiStepLrOptions options);
    std::string kind() const override { return "multi_step"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    MultiStepLrOptions m_o;
};

// lr * gamma^t  (torch ExponentialLR).
struct ExponentialLrOptions {
    double lr = 1e-3;
    double gamma = 0.95;
};
class ExponentialLr : public LrSchedule {
public:
    explicit ExponentialLr(ExponentialLrOptions options);
    std::string kind() const override { return "exponential"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    ExponentialLrOptions m_o;
};

// lr * exp(-k t)  (the textbook form; equals ExponentialLr with gamma = e^-k).
struct ExponentialDecayOptions {
    double lr = 1e-3;
    double k = 0.05;
};
class ExponentialDecay : public LrSchedule {
public:
    explicit ExponentialDecay(ExponentialDecayOptions options);
    std::string kind() const override { return "exponential_decay"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    ExponentialDecayOptions m_o;
};

// lr / (1 + k t)  (inverse-time decay; Keras InverseTimeDecay with decay_steps = 1, staircase off).
struct InverseTimeDecayOptions {
    double lr = 1e-3;
    double k = 0.05;
};
class InverseTimeDecay : public LrSchedule {
public:
    explicit InverseTimeDecay(InverseTimeDecayOptions options);
    std::string kind() const override { return "inverse_time"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    InverseTimeDecayOptions m_o;
};

}  // namespace mtag::nn
