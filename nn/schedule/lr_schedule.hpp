#pragma once
// LrSchedule: the learning rate as a function of the step count, PyTorch-scheduler style. The caller
// decides what a step is (a batch or an epoch) and calls step() after each; lr() is the rate to use for
// the next optimizer update. lr() at step 0 is the schedule's initial rate, as right after
// constructing a torch.optim.lr_scheduler object. Schedules hold a scalar rate; Optimizer::set_lr
// applies it to every parameter group in proportion to the group's own base rate.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mtag::nn {

// What one schedule step is: an epoch or an optimizer step (batch).
enum class ScheduleUnit { epoch, batch };

// Base of every schedule: a step counter plus a rate.
class LrSchedule {
  public:
    virtual ~LrSchedule() = default;
    // Rate for the next update.
    virtual double lr() const { return lr_at(m_step); }
    // Advances one step (batch or epoch: whatever the caller counts).
    virtual void step() { ++m_step; }
    // Advances one step with a monitored value; only reduce-on-plateau uses the value.
    virtual void step(double /*metric*/) { step(); }
    // Momentum to use with lr() (SGD/RMSProp momentum, Adam's beta1) for schedules that cycle it
    // (torch CyclicLR / OneCycleLR with cycle_momentum); empty for all others.
    virtual std::optional<double> momentum() const { return std::nullopt; }
    // Steps taken so far.
    std::int64_t step_count() const { return m_step; }
    // Short type name written into the saved state ("step", "cosine", ...).
    virtual std::string kind() const = 0;
    // Everything that changes while training, as JSON (for checkpoints).
    virtual nlohmann::json state() const;
    // Restores state(); throws mtag::Error if the JSON belongs to another kind of schedule.
    virtual void load_state(const nlohmann::json& state);

  protected:
    // Closed-form rate at step t (schedules without history override only this).
    virtual double lr_at(std::int64_t t) const = 0;
    // Checks state["kind"] == kind(); used by load_state overrides.
    void check_kind(const nlohmann::json& state) const;
    std::int64_t m_step = 0;
};

// Throws mtag::Error("<schedule> option <name>", ...) unless value > 0 (validation helper).
void require_positive(double value, const char* schedule, const char* name);
// Throws unless value >= 0.
void require_non_negative(double value, const char* schedule, const char* name);

}  // namespace mtag::nn
