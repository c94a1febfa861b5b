#include "data/report/diagnosis.hpp"

#include <nlohmann/json.hpp>

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

double mean(const std::vector<plot::LogStep>& steps, std::size_t from, std::size_t to) {
    double sum = 0;
    for (std::size_t i = from; i < to; ++i) sum += steps[i].loss;
    return to > from ? sum / static_cast<double>(to - from) : NAN;
}

// The training loss at the start of the run: the mean of the first steps (at most 5, at most a tenth of the
// first epoch's) when the run has per-step losses, else the first epoch's mean.
double start_loss(const plot::TrainingLog& log, const std::vector<double>& train) {
    if (!log.steps.empty()) {
        std::size_t first_epoch = 0;
        while (first_epoch < log.steps.size() && log.steps[first_epoch].position <= 1.0 + 1e-9) ++first_epoch;
        const std::size_t k = std::clamp<std::size_t>(first_epoch / 10, 1, 5);
        return mean(log.steps, 0, std::min(k, log.steps.size()));
    }
    return train.empty() ? NAN : train.front();
}

bool any_warning(const std::vector<Finding>& f, const std::string& code) {
    return std::any_of(f.begin(), f.end(), [&](const Finding& x) { return x.code == code; });
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

std::vector<Finding> diagnose(const plot::TrainingLog& log, const RunOutcome& outcome) {
    std::vector<Finding> findings;
    const std::vector<double> train = log.series("train_loss"), val = log.series("val_loss");
    const std::size_t n = log.epochs.size();
    const double start = start_loss(log, train);

    // Learning rate too high: a non-finite loss, or a training loss that ends far above its minimum and above
    // where it started.
    const char* const too_high = "; the learning rate is too high: lower it (mtag train --lr-find suggests one), "
                                 "or add gradient clipping (max_grad_norm)";
    bool diverged = false;
    if (outcome.non_finite_loss) {
        findings.push_back({Severity::warning, "Learning rate too high",
                            "the run stopped on a non-finite loss (" + outcome.message + ")" + too_high + ".",
                            "lr_too_high"});
        diverged = true;
    }
    for (std::size_t i = 0; i < n && !diverged; ++i)
        if (!std::isfinite(train[i]) || (log.has("val_loss") && !std::isfinite(val[i]))) {
            findings.push_back({Severity::warning, "Learning rate too high",
                                "the loss is not finite at epoch " + std::to_string(log.epochs[i].epoch) + too_high +
                                    "; or check the inputs for NaN.",
                                "lr_too_high"});
            diverged = true;
        }
    for (const plot::LogStep& s : log.steps)
        if (!diverged && !std::isfinite(s.loss)) {
            findings.push_back({Severity::warning, "Learning rate too high",
                                "a training step's loss is not finite (epoch " + num(std::ceil(s.position), 6) + ")" +
                                    too_high + ".",
                                "lr_too_high"});
            diverged = true;
        }
    const std::size_t train_min = argmin(train);
    const std::vector<double> ratio = log.series("update_ratio");  // per-step weight change / weight size
    if (!diverged && train_min != std::string::npos && n >= 1 && std::isfinite(train.back()) && std::isfinite(start)) {
        const double low = std::min(train[train_min], start);
        if (train.back() > 1.5 * low && train.back() > start) {
            findings.push_back({Severity::warning, "Learning rate too high",
                                "the training loss started at " + num(start) + ", was " + num(low) +
                                    " at its lowest and ends at " + num(train.back()) + ", above where it started" +
                                    too_high + ".",
                                "lr_too_high"});
            diverged = true;
        }
    }
    // Weights that move by more than a tenth of their size per step while the loss does not improve.
    if (!diverged && log.has("update_ratio") && n >= 1 && std::isfinite(ratio.front()) && ratio.front() > 0.1 &&
        std::isfinite(start) && !(train.back() < 0.9 * start)) {
        findings.push_back({Severity::warning, "Learning rate too high",
                            "each step changes the weights by " + num(100 * ratio.front(), 3) +
                                "% of their size (about 0.1% is healthy) and the training loss did not improve (" +
                                num(start) + " to " + num(train.back()) + ")" + too_high + ".",
                            "lr_too_high"});
        diverged = true;
    }

    // Learning rate too low (or bad initialisation): the loss does not move in the first epochs.
    const std::size_t early = std::min<std::size_t>(n, 3);
    bool stuck = false;
    if (!diverged && early >= 1 && std::isfinite(start) && start > 0 && std::isfinite(train[early - 1]) &&
        (n >= 2 || log.steps.size() >= 10)) {
        const double moved = (start - train[early - 1]) / start;
        // Weights that barely move: under 1e-5 of their size per step over the first epochs (CS231n: ~1e-3).
        double largest_ratio = 0;
        for (std::size_t i = 0; i < early && i < ratio.size(); ++i)
            largest_ratio = std::isfinite(ratio[i]) ? std::max(largest_ratio, ratio[i]) : largest_ratio;
        const bool frozen = log.has("update_ratio") && largest_ratio < 1e-5;
        if (frozen) {  // the loss cannot move in expectation whatever its noise (dropout, crops) says
            findings.push_back({Severity::warning, "Learning rate too low",
                                "each step changes the weights by at most " + num(largest_ratio, 2) +
                                    " of their size in the first " + std::to_string(early) +
                                    " epoch(s) (about 1e-3 is healthy) and the training loss went from " + num(start) +
                                    " to " + num(train[early - 1]) +
                                    ": the learning rate is too low (mtag train --lr-find suggests one).",
                                "lr_too_low"});
            stuck = true;
        } else if (std::abs(moved) < 0.01) {
            findings.push_back({Severity::warning, "Learning rate too low",
                                "the training loss moved " + num(100 * std::abs(moved), 2) + "% in the first " +
                                    std::to_string(early) + " epoch(s) (" + num(start, 6) + " to " +
                                    num(train[early - 1], 6) +
                                    "): the learning rate is too low (mtag train --lr-find suggests one) or the "
                                    "initialisation or input normalisation is bad.",
                                "lr_too_low"});
            stuck = true;
        }
    }

    // Overfitting: validation loss above its minimum for the last epochs while the training loss fell, or a
    // train/validation gap that keeps growing.
    const std::size_t val_min = argmin(val);
    if (!diverged && val_min != std::string::npos && std::isfinite(val.back()) && std::isfinite(train.back())) {
        const double gap = val.back() - train.back();
        const double gap_at_best = std::isfinite(train[val_min]) ? val[val_min] - train[val_min] : NAN;
        const double rise = (val.back() - val[val_min]) / std::max(1e-12, std::abs(val[val_min]));
        const bool train_fell = std::isfinite(train[val_min]) && train.back() < train[val_min];
        const std::size_t epochs_after = n - 1 - val_min;
        const std::string gap_text = "gap val_loss - train_loss = " + num(gap) + " at the last epoch" +
                                     (std::isfinite(gap_at_best) ? " (" + num(gap_at_best) + " at the validation minimum)" : "");
        // The gap grew over each of the last 3 epochs and by more than half the validation minimum overall.
        bool gap_growing = n >= 4 && std::isfinite(gap_at_best) && gap - gap_at_best > 0.5 * std::abs(val[val_min]);
        for (std::size_t i = n >= 4 ? n - 3 : 0; gap_growing && i < n; ++i)
            gap_growing = std::isfinite(val[i]) && std::isfinite(train[i]) && std::isfinite(val[i - 1]) &&
                          val[i] - train[i] > val[i - 1] - train[i - 1];
        if ((epochs_after >= 2 && rise > 0.05 && train_fell) || (gap_growing && train_fell)) {
            findings.push_back({Severity::warning, "Overfitting",
                                (rise > 0.05 ? "validation loss rose " + num(100 * rise, 3) + "% from its minimum " +
                                                   num(val[val_min]) + " at epoch " +
                                                   std::to_string(log.epochs[val_min].epoch) + " while"
                                             : std::string("the train/validation gap grew while")) +
                                    " the training loss kept falling; " + gap_text +
                                    ". The best model is kept; more data, augmentation, dropout or weight decay "
                                    "(regularization section) help.",
                                "overfitting"});
        } else {
            findings.push_back({Severity::ok, "Generalisation gap", gap_text + ".", "gap"});
        }
    }

    // Underfitting: both losses plateau high.
    if (!diverged && !stuck && n >= 3 && std::isfinite(start) && std::isfinite(train.back()) &&
        std::isfinite(train[n - 2]) && train.back() > 0.7 * start && train.back() <= 1.5 * start) {
        const bool flat = std::abs(train.back() - train[n - 2]) < 0.02 * train[n - 2];
        const bool val_close = !log.has("val_loss") || !std::isfinite(val.back()) ||
                               std::abs(val.back() - train.back()) < 0.25 * train.back();
        if (flat && val_close && !any_warning(findings, "overfitting"))
            findings.push_back({Severity::warning, "Underfitting",
                                "the training loss went from " + num(start) + " to " + num(train.back()) +
                                    " and has flattened, with the validation loss " +
                                    (log.has("val_loss") ? num(val.back()) : std::string("unknown")) +
                                    " close to it: both plateau high. A bigger model, a higher learning rate, more "
                                    "epochs or less regularisation may help.",
                                "underfitting"});
    }

    // Still improving at the end.
    if (log.best_epoch > 0 && n >= 2 && log.best_epoch == log.epochs.back().epoch)
        findings.push_back({Severity::note, "Still improving",
                            "the best epoch is the last one (" + std::to_string(log.best_epoch) +
                                "): training longer may improve the model.",
                            "still_improving"});
    if (std::none_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::warning; }))
        findings.insert(findings.begin(), {Severity::ok, "No divergence, stall, overfitting or underfitting found",
                                           "the loss curves look healthy.", "healthy"});
    return findings;
}

std::string diagnosis_log_line(const std::vector<Finding>& findings) {
    nlohmann::json list = nlohmann::json::array();
    for (const Finding& f : findings)
        list.push_back({{"severity", to_string(f.severity)}, {"code", f.code}, {"title", f.title}, {"detail", f.detail}});
    return nlohmann::json{{"event", "diagnosis"}, {"findings", list}}.dump();
}

}  // namespace mtag::data::report
