#pragma once
// Every learning-rate schedule of nn/schedule by name, with all its options, optionally behind a linear
// warm-up: the typed form of a training config's "schedule" section and the one place that builds it
// (used by the trainer, its training phases, `mtag bench optim` and the tests alike).
//
// Names: constant, step, multi_step, exponential (gamma^t), exponential_decay (e^-kt), inverse_time
// (1/(1+kt)), cosine, cosine_warm_restarts, cyclic (mode triangular | triangular2 | exp_range), one_cycle,
// reduce_on_plateau (mode follows the monitored metric unless given). Any of them takes warmup_steps > 0
// for a linear warm-up in front (nn/schedule/warmup.hpp).
//
// The optimizer owns the base rate: a schedule's rates are derived from it (cyclic's base_lr and
// one_cycle's max_lr default to it). Lengths given as 0 (cosine t_max, one_cycle total_steps) mean the
// whole run, in the schedule's unit.
#include "nn/schedule/cosine.hpp"
#include "nn/schedule/cyclic.hpp"
#include "nn/schedule/decay.hpp"
#include "nn/schedule/lr_schedule.hpp"
#include "nn/schedule/plateau.hpp"
#include "nn/schedule/warmup.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

// reduce_on_plateau's mode: auto follows the monitored metric (min for val_loss, max otherwise).
enum class PlateauMode { auto_, min, max };

struct ScheduleConfig {
    std::string name = "constant";
    ScheduleUnit unit = ScheduleUnit::epoch;  // cyclic and one_cycle default to batch (as torch steps them)
    // The options of each class (their `lr` fields are ignored: the optimizer's rate is the base).
    StepLrOptions step;
    MultiStepLrOptions multi_step;
    ExponentialLrOptions exponential;
    ExponentialDecayOptions exponential_decay;
    InverseTimeDecayOptions inverse_time;
    CosineAnnealingOptions cosine{.t_max = 0};
    CosineWarmRestartsOptions cosine_warm_restarts;
    CyclicLrOptions cyclic{.base_lr = 0};
    OneCycleLrOptions one_cycle{.max_lr = 0, .total_steps = 0};
    ReduceOnPlateauOptions reduce_on_plateau;
    PlateauMode plateau_mode = PlateauMode::auto_;
    // Linear warm-up in front of the schedule; 0 = none.
    WarmupOptions warmup{.warmup_steps = 0};

    // The defaults of `name`; throws mtag::Error listing the names for an unknown one.
    static ScheduleConfig named(const std::string& name);

    // Visits "name" first (a reader that changes it resets every option to that name's defaults), then
    // "unit", the selected class's options and the warm-up.
    template <class V>
    void visit(V& v);
};

// What a schedule needs to know of the run it is built for.
struct ScheduleContext {
    double lr = 1e-3;                         // the optimizer's base rate
    std::int64_t epochs = 1;                  // run length in epochs
    std::int64_t batches_per_epoch = 1;       // optimizer steps per epoch
    MonitorMode monitor = MonitorMode::max;   // direction of the monitored metric (reduce_on_plateau auto)
};

// "constant", "step", ... in a stable order.
std::vector<std::string> schedule_names();

// Builds the schedule; null for "constant" without warm-up (a constant rate needs no object). Throws
// mtag::Error naming the option when invalid.
std::unique_ptr<LrSchedule> make_schedule(const ScheduleConfig& config, const ScheduleContext& context);

// The unit the schedule effectively steps in (reduce_on_plateau always per epoch: it needs a metric).
ScheduleUnit effective_unit(const ScheduleConfig& config);

// ---------------------------------------------------------------------------------------------------------------

template <class V>
void ScheduleConfig::visit(V& v) {
    std::string n = name;
    v.field("name", n,
            "constant | step | multi_step | exponential | exponential_decay | inverse_time | cosine | "
            "cosine_warm_restarts | cyclic | one_cycle | reduce_on_plateau");
    if (n != name) *this = named(n);
    v.choice("unit", unit, std::vector<std::pair<ScheduleUnit, const char*>>{{ScheduleUnit::epoch, "epoch"}, {ScheduleUnit::batch, "batch"}},
             "what one schedule step is: an epoch or an optimizer step");
    if (name == "step") {
        v.field("step_size", step.step_size, "steps between decays (torch StepLR)");
        v.field("gamma", step.gamma, "decay factor");
    } else if (name == "multi_step") {
        v.field("milestones", multi_step.milestones, "steps at which the rate decays (torch MultiStepLR)");
        v.field("gamma", multi_step.gamma, "decay factor");
    } else if (name == "exponential") {
        v.field("gamma", exponential.gamma, "lr * gamma^t (torch ExponentialLR)");
    } else if (name == "exponential_decay") {
        v.field("k", exponential_decay.k, "lr * exp(-k t)");
    } else if (name == "inverse_time") {
        v.field("k", inverse_time.k, "lr / (1 + k t) (Keras SGD decay with unit batch)");
    } else if (name == "cosine") {
        v.field("t_max", cosine.t_max, "half period in steps; 0 = the whole run (torch CosineAnnealingLR)");
        v.field("eta_min", cosine.eta_min, "lowest rate");
    } else if (name == "cosine_warm_restarts") {
        v.field("t_0", cosine_warm_restarts.t_0, "steps of the first cycle (torch CosineAnnealingWarmRestarts)");
        v.field("t_mult", cosine_warm_restarts.t_mult, "cycle length multiplier after each restart");
        v.field("eta_min", cosine_warm_restarts.eta_min, "lowest rate");
    } else if (name == "cyclic") {
        v.field("base_lr", cyclic.base_lr, "lower bound; 0 = the optimizer's lr (torch CyclicLR)");
        v.field("max_lr", cyclic.max_lr, "upper bound");
        v.field("step_size_up", cyclic.step_size_up, "steps of the rising half");
        v.field("step_size_down", cyclic.step_size_down, "steps of the falling half; 0 = step_size_up");
        v.choice("mode", cyclic.mode,
                 std::vector<std::pair<CyclicMode, const char*>>{{CyclicMode::triangular, "triangular"},
                                                                 {CyclicMode::triangular2, "triangular2"},
                                                                 {CyclicMode::exp_range, "exp_range"}},
                 "cycle amplitude: constant, halved each cycle (triangular2) or scaled by gamma^t (exp_range)");
        v.field("gamma", cyclic.gamma, "exp_range's amplitude decay");
        v.field("cycle_momentum", cyclic.cycle_momentum, "cycle momentum (beta1 for Adam) inversely to the rate");
        v.field("base_momentum", cyclic.base_momentum, "lower momentum bound");
        v.field("max_momentum", cyclic.max_momentum, "upper momentum bound");
    } else if (name == "one_cycle") {
        v.field("max_lr", one_cycle.max_lr, "peak rate; 0 = the optimizer's lr (torch OneCycleLR)");
        v.field("total_steps", one_cycle.total_steps, "length of the cycle; 0 = the whole run");
        v.field("pct_start", one_cycle.pct_start, "fraction of the cycle spent rising");
        v.choice("anneal_strategy", one_cycle.anneal_strategy,
                 std::vector<std::pair<AnnealStrategy, const char*>>{{AnnealStrategy::cos, "cos"}, {AnnealStrategy::linear, "linear"}},
                 "shape of the rise and the annealing");
        v.field("div_factor", one_cycle.div_factor, "initial rate = max_lr / div_factor");
        v.field("final_div_factor", one_cycle.final_div_factor, "final rate = initial rate / final_div_factor");
        v.field("three_phase", one_cycle.three_phase, "decay back to the initial rate before annealing");
        v.field("cycle_momentum", one_cycle.cycle_momentum, "cycle momentum (beta1 for Adam) inversely to the rate");
        v.field("base_momentum", one_cycle.base_momentum, "lower momentum bound");
        v.field("max_momentum", one_cycle.max_momentum, "upper momentum bound");
    } else if (name == "reduce_on_plateau") {
        v.choice("mode", plateau_mode,
                 std::vector<std::pair<PlateauMode, const char*>>{{PlateauMode::auto_, "auto"}, {PlateauMode::min, "min"}, {PlateauMode::max, "max"}},
                 "plateau direction; auto follows the monitored metric (min for val_loss, max for AUC / accuracy)");
        v.field("factor", reduce_on_plateau.factor, "new rate = rate * factor (torch ReduceLROnPlateau)");
        v.field("patience", reduce_on_plateau.patience, "epochs without improvement tolerated");
        v.field("threshold", reduce_on_plateau.threshold, "least change that counts as an improvement");
        v.choice("threshold_mode", reduce_on_plateau.threshold_mode,
                 std::vector<std::pair<ThresholdMode, const char*>>{{ThresholdMode::rel, "rel"}, {ThresholdMode::abs, "abs"}},
                 "threshold relative to the best value, or absolute");
        v.field("cooldown", reduce_on_plateau.cooldown, "epochs after a reduction before counting again");
        v.field("min_lr", reduce_on_plateau.min_lr, "lowest rate");
        v.field("eps", reduce_on_plateau.eps, "reductions smaller than this are ignored");
    }
    v.field("warmup_steps", warmup.warmup_steps, "linear warm-up steps in front of the schedule; 0 = none");
    v.field("warmup_start_factor", warmup.start_factor, "warm-up starts at lr * this");
}

}  // namespace mtag::nn
