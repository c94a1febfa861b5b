#pragma once
// Training phases: the later stages of a published recipe, executed instead of described. The run starts
// with the config's optimizer and schedule; each phase, in order, begins when its trigger fires:
//   epochs   `after` epochs into the previous phase (Won et al. 2020: Adam for 80 epochs, then SGD)
//   plateau  the monitored metric has not improved for `after` epochs in the previous phase
//            (Lee et al. 2017: lr x 0.2 whenever validation loss stalls for 3 epochs)
// and then, optionally, restores the best weights so far, builds a new optimizer (fresh state) or sets a
// new rate on the current one, and starts its own schedule. While phases remain, early stopping does not end
// the run; in the last phase it does (its patience counted from the phase's start).
// ref: sota-music-tagging-models training/solver.py opt_schedule; sampleCNN
//      run_pubtaga_endToEnd_cnn_novalidgen.py (one Keras fit per rate, EarlyStopping patience 3).
#include "nn/optim/factory.hpp"
#include "nn/schedule/factory.hpp"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace mtag::nn {

enum class PhaseTrigger { epochs, plateau };

struct TrainingPhase {
    PhaseTrigger trigger = PhaseTrigger::epochs;
    std::int64_t after = 10;                     // epochs (epochs trigger) or epochs without improvement (plateau)
    bool reload_best = true;                     // restore the best weights so far when the phase begins
    std::optional<OptimizerConfig> optimizer{};  // a new optimizer, fresh state; none = keep the current one
    double lr = 0;                               // > 0: the phase's base rate (overrides the new optimizer's lr)
    ScheduleConfig schedule{};                   // the phase's schedule (constant by default)

    template <class V>
    void visit(V& v) {
        v.choice("trigger", trigger,
                 std::vector<std::pair<PhaseTrigger, const char*>>{{PhaseTrigger::epochs, "epochs"}, {PhaseTrigger::plateau, "plateau"}},
                 "when the phase begins: after `after` epochs of the previous phase, or when the monitored metric has "
                 "not improved for `after` epochs");
        v.field("after", after, "epochs (trigger epochs) or patience in epochs (trigger plateau)");
        v.field("reload_best", reload_best, "restore the best weights so far when the phase begins");
        v.section("optimizer", optimizer, "a new optimizer (an optimizer section; fresh state), null = keep the current one");
        v.field("lr", lr, "the phase's base rate; 0 = the new optimizer's lr, or the current rate");
        v.section("schedule", schedule, "the phase's schedule (a schedule section)");
    }
};

}  // namespace mtag::nn
