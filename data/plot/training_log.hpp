#pragma once
// A run's training log (RUN/log.jsonl, one JSON line per epoch written by nn::TrainingState), read once
// into typed records for the curves plot and the report.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mtag::data::plot {

struct LogEpoch {
    int epoch = 0;           // 1-based, as `mtag train` prints it
    long long step = 0;      // optimizer steps taken by the end of the epoch
    double lr = 0;
    std::map<std::string, double> metrics;  // train_loss, val_loss, roc_auc_macro, ... (NaN for null)
    std::vector<std::string> events;        // improved, reload_best, stop, ...
};

// One optimizer step's training loss (RUN/steps.jsonl, written by mtag train).
struct LogStep {
    double position = 0;  // in epochs: epoch e's (0-based) batch b of n is at e + (b + 1) / n, so the last
                          // step of an epoch sits on that epoch's 1-based number, like the epoch values
    double loss = 0;
};

struct TrainingLog {
    std::string name;            // the run's folder name (legend label)
    std::vector<LogEpoch> epochs;
    int best_epoch = 0;          // 1-based epoch of the best monitored value, per the last line; 0 = none
    double best_value = 0;
    std::vector<LogStep> steps;  // empty when the run has no steps.jsonl

    // The values of one metric over the epochs (NaN where missing).
    std::vector<double> series(const std::string& metric) const;
    bool has(const std::string& metric) const;
};

// Reads RUN/log.jsonl (or a .jsonl file given directly), and RUN/steps.jsonl when it exists. Lines with an "event" key (skipped clips) are
// ignored. Throws mtag::Error naming the file when it is missing, a line is not JSON or lacks "epoch",
// or the log has no epoch at all (unless `allow_empty`: then a run stopped in its first epoch, whose log.jsonl
// may not exist yet, gives no epochs and its steps).
TrainingLog read_training_log(const std::filesystem::path& run_or_file, bool allow_empty = false);

// TensorBoard's scalar smoothing: an exponential moving average with the first values debiased
// (weight 0.6 is TensorBoard's default).
std::vector<double> smooth(const std::vector<double>& values, double weight = 0.6);

}  // namespace mtag::data::plot
