#pragma once
// An automatic reading of the loss curves, the way a practitioner reads them (ref: Karpathy, "A Recipe for
// Training Neural Networks", 2019; CS231n "Babysitting the learning process"; Goodfellow et al., Deep
// Learning, 7.8 early stopping). One implementation for `mtag report` and for the end of `mtag train`
// (stderr and a {"event": "diagnosis"} line of log.jsonl):
//
//   lr_too_high   a non-finite loss (or a run stopped by one), a training loss that ends above where it
//                 started and well above its minimum, or weights that move by more than 10% of their size per
//                 step (update_ratio, logged by mtag train) while the loss does not improve: diverging
//   lr_too_low    weights that move by less than 1e-5 of their size per step over the first epochs (up to 3)
//                 (CS231n: about 1e-3 is healthy), or a training loss that moved
//                 less than 1% there: the rate is too low, or the initialisation / input scaling is bad
//   overfitting   validation loss rising from its minimum while the training loss keeps falling, or a
//                 train/validation gap that keeps growing: more data, augmentation, dropout, weight decay
//   underfitting  both losses plateau high (the training loss ends above 70% of where it started, flat over
//                 the last epochs, validation close to it): a bigger model, a higher rate, more epochs,
//                 less regularisation
//   still_improving  the best epoch is the last one
//
// The start of the training loss is read from the per-step losses (steps.jsonl) when the run has them: the
// first epoch's mean already contains the first steps' progress or explosion.
#include "data/plot/training_log.hpp"

#include <string>
#include <vector>

namespace mtag::data::report {

enum class Severity { ok, note, warning };

struct Finding {
    Severity severity = Severity::ok;
    std::string title;   // "Overfitting"
    std::string detail;  // the numbers behind it and what to try
    std::string code;    // lr_too_high | lr_too_low | overfitting | underfitting | still_improving | gap | healthy
};

// How the run ended, beyond its log (mtag train knows when a non-finite loss stopped it).
struct RunOutcome {
    bool non_finite_loss = false;  // stopped by a non-finite loss or gradient (nan_policy stop)
    std::string message;           // its error message
};

std::string to_string(Severity severity);

// The findings for one run's log (at least one: "no problem found" when nothing fires). The log may have no
// epoch when the run stopped in its first one.
std::vector<Finding> diagnose(const plot::TrainingLog& log, const RunOutcome& outcome = {});

// {"event": "diagnosis", "findings": [{"severity", "code", "title", "detail"}...]} as one JSON line.
std::string diagnosis_log_line(const std::vector<Finding>& findings);

}  // namespace mtag::data::report
