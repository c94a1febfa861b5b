#include "data/train/epoch_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace mtag::data {

std::string format_duration(double s) {
    const auto total = static_cast<long long>(std::max(0.0, s));
    char buf[32];
    if (total >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total / 60) % 60);
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
    return buf;
}

std::string format_epoch_line(const EpochLine& e, const std::map<std::string, double>& metrics) {
    auto metric = [&](const char* name) {
        const auto it = metrics.find(name);
        return it == metrics.end() ? 0.0 : it->second;
    };
    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(4);
    line << "epoch " << e.epoch << "/" << e.epochs << "  batches " << e.batches << "  loss " << e.train_loss;
    line.precision(1);
    line << "  " << metric("clips_per_second") << " clips/s  ETA " << format_duration(e.eta_seconds);
    line.precision(4);
    line << "  val_loss " << metric("val_loss");
    if (e.single_label) line << "  accuracy " << metric("accuracy");
    line << "  roc_auc " << metric("roc_auc_macro") << "  pr_auc " << metric("pr_auc_macro");
    if (e.improved) line << "  (best)";
    if (e.skipped_batches) line << "  skipped " << e.skipped_batches;
    return line.str();
}

void report_skipped_clips(const std::vector<ClipFailure>& failures, std::int64_t epoch, const std::string& split,
                          const std::filesystem::path& log_path, bool quiet) {
    if (failures.empty()) return;
    nlohmann::json clips = nlohmann::json::array();
    for (const ClipFailure& f : failures) {
        clips.push_back({{"path", f.path.string()}, {"reason", f.reason}});
        if (!quiet)
            std::cerr << "warning: epoch " << epoch + 1 << ", " << split << ": skipped '" << f.path.string()
                      << "': " << f.reason << "\n";
    }
    std::ofstream log(log_path, std::ios::app);
    log << nlohmann::json{{"event", "skipped_clips"}, {"epoch", epoch + 1}, {"split", split}, {"clips", clips}}.dump()
        << "\n";
}

nlohmann::json metrics_json(const std::map<std::string, double>& metrics) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : metrics) m[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    return m;
}

}  // namespace mtag::data
