#pragma once
// What `mtag train` tells its user after each epoch: one progress line on stderr (loss, throughput, ETA,
// validation metrics), the clips a loader had to leave out (stderr and log.jsonl), and the training summary
// stored in the model card.
#include "data/pipeline/batch_loader.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mtag::data {

// "12m05s" or "1h02m".
std::string format_duration(double seconds);

// The values of one epoch's progress line.
struct EpochLine {
    std::int64_t epoch = 0;        // 1-based
    std::int64_t epochs = 0;
    std::size_t batches = 0;
    double train_loss = 0;
    double eta_seconds = 0;
    bool single_label = false;
    bool improved = false;
    std::size_t skipped_batches = 0;
};

// "epoch 3/20  batches 40  loss 0.3120  512.0 clips/s  ETA 1m10s  val_loss ...  roc_auc ...  (best)".
std::string format_epoch_line(const EpochLine& line, const std::map<std::string, double>& metrics);

// Clips a loader left out of an epoch (unreadable or failed augmentation): one line each on stderr (unless
// quiet) and one JSON line {"event": "skipped_clips", ...} appended to `log_path`.
void report_skipped_clips(const std::vector<ClipFailure>& failures, std::int64_t epoch, const std::string& split,
                          const std::filesystem::path& log_path, bool quiet);

// Metrics as JSON, non-finite values as null.
nlohmann::json metrics_json(const std::map<std::string, double>& metrics);

}  // namespace mtag::data
