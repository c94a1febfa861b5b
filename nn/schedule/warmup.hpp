#pragma once
// Linear warm-up in front of any schedule. For the first warmup_steps steps the rate rises linearly
// from start_factor * r0 to r0, where r0 is the wrapped schedule's initial rate; afterwards the wrapped
// schedule runs from its own step 0 (torch: LinearLR(start_factor, total_iters=warmup_steps) followed
// by the schedule, as SequentialLR intends). During warm-up the wrapped schedule is not stepped, so a
// reduce-on-plateau inside ignores the monitored values of those steps.
#include "nn/schedule/lr_schedule.hpp"

#include <memory>

namespace mtag::nn {

struct WarmupOptions {
    std::int64_t warmup_steps = 5;
    double start_factor = 1.0 / 3;  // torch LinearLR default
};

class Warmup : public LrSchedule {
public:
    Warmup(WarmupOptions options, std::unique_ptr<LrSchedule> inner);
    double lr() const override;
    void step() override;
    void step(double metric) override;
    std::string kind() const override { return "warmup"; }
    nlohmann::json state() const override;
    void load_state(const nlohmann::json& state) override;
    // The wrapped schedule.
    LrSchedule& inner() { return *m_inner; }

protected:
    double lr_at(std::int64_t) const override { return lr(); }

private:
    WarmupOptions m_o;
    std::unique_ptr<LrSchedule> m_inner;
};

}  // namespace mtag::nn
