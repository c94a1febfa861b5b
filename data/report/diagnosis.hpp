#pragma once
// An automatic reading of the loss curves, the way a practitioner reads them (ref: Karpathy, "A Recipe for
// Training Neural Networks", 2019; Goodfellow et al., Deep Learning, 7.8 early stopping): divergence
// (a non-finite or exploding loss), overfitting (validation loss rising from its minimum while the
// training loss keeps falling, and the gap between them), underfitting (a training loss that barely
// moved), and a run stopped while still improving.
#include "data/plot/training_log.hpp"

#include <string>
#include <vector>

namespace mtag::data::report {

enum class Severity { ok, note, warning };

struct Finding {
    Severity severity = Severity::ok;
    std::string title;   // "Overfitting"
    std::string detail;  // the numbers behind it and what to try
};

std::string to_string(Severity severity);

// The findings for one run's log (at least one: "no problem found" when nothing fires).
std::vector<Finding> diagnose(const plot::TrainingLog& log);

}  // namespace mtag::data::report
