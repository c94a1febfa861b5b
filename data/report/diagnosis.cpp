#include "data/report/diagnosis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mtag::data::report {

namespace {

std::string num(double v, int digits = 4) {
    char text[48];
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    return text;
}

// Index of the smallest finite value, or npos.
std::size_t argmin(const std::vector<double>& v) {
    std::size_t best = std::string::npos;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (std::isfinite(v[i]) && (best == std::string::npos || v[i] < v[best])) best = i;
    return best;
}

}  // namespace

std::string to_string(Severity severity) {
    switch (severity) {
        case Severity::ok: return "ok";
        case Severity::note: return "note";
        case Severity::warning: return "warning";
    }
    return "ok";
}

std::vector<Finding> diagnose(const plot::TrainingLog& log) {
    std::vector<Finding> findings;
    const std::vector<double> train = log.series("train_loss"), val = log.series("val_loss");
    const std::size_t n = log.epochs.size();

    // Divergence: a non-finite loss, or a training loss that ends far above its minimum.
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(train[i]) || (log.has("val_loss") && !std::isfinite(val[i]))) {
            findings.push_back({Severity::warning, "Divergence",
                                "the loss is not finite at epoch " + std::to_string(log.epochs[i].epoch) +
                                    ": lower the learning rate, add gradient clipping, or check the inputs for NaN."});
            break;
        }
    const std::size_t train_min = argmin(train);
    if (train_min != std::string::npos && std::isfinite(train.back()) && train_min + 1 < n &&
        train.back() > 1.5 * train[train_min] && train.back() > train.front()) {
        findings.push_back({Severity::warning, "Divergence",
                            "the training loss rose from " + num(train[train_min]) + " (epoch " +
                                std::to_string(log.epochs[train_min].epoch) + ") to " + num(train.back()) +
                                " and ends above where it started: the learning rate is likely too high."});
    }

    // Overfitting: validation loss above its minimum for the last epochs while the training loss fell.
    const std::size_t val_min = argmin(val);
    if (val_min != std::string::npos && std::isfinite(val.back()) && std::isfinite(train.back())) {
        const double gap = val.back() - train.back();
        const double gap_at_best = std::isfinite(train[val_min]) ? val[val_min] - train[val_min] : NAN;
        const double rise = (val.back() - val[val_min]) / std::max(1e-12, std::abs(val[val_min]));
        const bool train_fell = std::isfinite(train[val_min]) && train.back() < train[val_min];
        const std::size_t epochs_after = n - 1 - val_min;
        const std::string gap_text = "gap val_loss - train_loss = " + num(gap) + " at the last epoch" +
                                     (std::isfinite(gap_at_best) ? " (" + num(gap_at_best) + " at the validation minimum)" : "");
        if (epochs_after >= 2 && rise > 0.05 && train_fell) {
            findings.push_back({Severity::warning, "Overfitting",
                                "validation loss rose " + num(100 * rise, 3) + "% from its minimum " + num(val[val_min]) +
                                    " at epoch " + std::to_string(log.epochs[val_min].epoch) +
                                    " while the training loss kept falling; " + gap_text +
                                    ". The best model is kept; more data, augmentation, dropout or weight decay help."});
        } else {
            findings.push_back({Severity::ok, "Generalisation gap", gap_text + "."});
        }
    }

    // Underfitting: the training loss barely moved.
    if (n >= 3 && std::isfinite(train.front()) && std::isfinite(train.back()) && train.back() > 0.95 * train.front() &&
        train.back() <= train.front() * 1.5)
        findings.push_back({Severity::note, "Underfitting",
                            "the training loss went from " + num(train.front()) + " to " + num(train.back()) +
                                " (less than 5% lower): a larger learning rate, a bigger model or more epochs may help."});

    // Still improving at the end.
    if (log.best_epoch > 0 && log.best_epoch == log.epochs.back().epoch && n >= 2)
        findings.push_back({Severity::note, "Still improving",
                            "the best epoch is the last one (" + std::to_string(log.best_epoch) +
                                "): training longer may improve the model."});
    if (std::none_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::warning; }))
        findings.insert(findings.begin(), {Severity::ok, "No divergence or overfitting found", "the loss curves look healthy."});
    return findings;
}

}  // namespace mtag::data::report
