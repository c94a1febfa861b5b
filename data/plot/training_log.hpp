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

struct TrainingLog {
    std::string name;            // the run's folder name (legend label)
    std::vector<LogEpoch> epochs;
    int best_epoch = 0;          // 1-based epoch of the best monitored value, per the last line; 0 = none
    double best_value = 0;

    // The values of one metric over the epochs (NaN where missing).
    std::vector<double> series(const std::string& metric) const;
    bool has(const std::string& metric) const;
};

// Reads RUN/log.jsonl (or a .jsonl file given directly). Lines with an "event" key (skipped clips) are
// ignored. Throws mtag::Error naming the file when it is missing, a line is not JSON or lacks "epoch",
// or the log has no epoch at all.
TrainingLog read_training_log(const std::filesystem::path& run_or_file);

}  // namespace mtag::data::plot
