#include "nn/schedule/factory.hpp"

#include "dsp/error.hpp"

namespace mtag::nn {

std::vector<std::string> schedule_names() {
    return {"constant", "step",   "multi_step", "exponential", "exponential_decay", "inverse_time",
            "cosine",   "cosine_warm_restarts", "cyclic", "one_cycle", "reduce_on_plateau"};
}

ScheduleConfig ScheduleConfig::named(const std::string& name) {
    bool known = false;
    for (const std::string& n : schedule_names()) known = known || n == name;
    if (!known) {
        std::string list;
        for (const std::string& n : schedule_names()) list += (list.empty() ? "" : ", ") + n;
        throw Error("schedule 'name'", "got '" + name + "', expected one of " + list);
    }
    ScheduleConfig c;
    c.name = name;
    // torch steps CyclicLR and OneCycleLR after every batch.
    if (name == "cyclic" || name == "one_cycle") c.unit = ScheduleUnit::batch;
    return c;
}

ScheduleUnit effective_unit(const ScheduleConfig& c) {
    return c.name == "reduce_on_plateau" ? ScheduleUnit::epoch : c.unit;
}

namespace {

// The schedules whose only run-time input is the base rate: their options with lr set.
template <class Schedule, class Options>
std::unique_ptr<LrSchedule> at_rate(Options o, double lr) {
    o.lr = lr;
    return std::make_unique<Schedule>(o);
}

std::unique_ptr<LrSchedule> make_inner(const ScheduleConfig& c, const ScheduleContext& x) {
    const std::int64_t horizon =
        effective_unit(c) == ScheduleUnit::batch ? x.epochs * std::max<std::int64_t>(x.batches_per_epoch, 1) : x.epochs;
    const std::string& n = c.name;
    if (n == "constant") return std::make_unique<ConstantLr>(ConstantLrOptions{.lr = x.lr});
    if (n == "step") return at_rate<StepLr>(c.step, x.lr);
    if (n == "multi_step") return at_rate<MultiStepLr>(c.multi_step, x.lr);
    if (n == "exponential") return at_rate<ExponentialLr>(c.exponential, x.lr);
    if (n == "exponential_decay") return at_rate<ExponentialDecay>(c.exponential_decay, x.lr);
    if (n == "inverse_time") return at_rate<InverseTimeDecay>(c.inverse_time, x.lr);
    if (n == "cosine") {
        CosineAnnealingOptions o = c.cosine;
        o.lr = x.lr;
        if (o.t_max == 0) o.t_max = horizon;
        return std::make_unique<CosineAnnealing>(o);
    }
    if (n == "cosine_warm_restarts") return at_rate<CosineWarmRestarts>(c.cosine_warm_restarts, x.lr);
    if (n == "cyclic") {
        CyclicLrOptions o = c.cyclic;
        if (o.base_lr == 0) o.base_lr = x.lr;
        return std::make_unique<CyclicLr>(o);
    }
    if (n == "one_cycle") {
        OneCycleLrOptions o = c.one_cycle;
        if (o.max_lr == 0) o.max_lr = x.lr;
        if (o.total_steps == 0) o.total_steps = horizon;
        return std::make_unique<OneCycleLr>(o);
    }
    if (n == "reduce_on_plateau") {
        ReduceOnPlateauOptions o = c.reduce_on_plateau;
        o.lr = x.lr;
        o.mode = c.plateau_mode == PlateauMode::auto_ ? x.monitor
                 : c.plateau_mode == PlateauMode::min ? MonitorMode::min
                                                      : MonitorMode::max;
        return std::make_unique<ReduceOnPlateau>(o);
    }
    ScheduleConfig::named(n);  // throws listing the names
    throw Error("schedule 'name'", "got '" + n + "'");
}

}  // namespace

std::unique_ptr<LrSchedule> make_schedule(const ScheduleConfig& c, const ScheduleContext& x) {
    if (c.warmup.warmup_steps < 0) throw Error("schedule 'warmup_steps'", "must be >= 0 (0 = no warm-up)");
    if (c.name == "constant" && c.warmup.warmup_steps == 0) return nullptr;
    auto inner = make_inner(c, x);
    if (c.warmup.warmup_steps == 0) return inner;
    return std::make_unique<Warmup>(c.warmup, std::move(inner));
}

}  // namespace mtag::nn
