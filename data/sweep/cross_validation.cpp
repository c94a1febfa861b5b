#include "data/sweep/cross_validation.hpp"

#include "dsp/error.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace mtag::data {

nlohmann::json CrossValidationResult::to_json(std::size_t folds, std::uint64_t seed) const {
    auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
    nlohmann::json values = nlohmann::json::array(), list = nlohmann::json::array();
    for (std::size_t k = 0; k < runs.size(); ++k) {
        values.push_back(runs[k].value ? nlohmann::json(*runs[k].value) : nlohmann::json(nullptr));
        nlohmann::json run = runs[k].to_json();
        run["fold"] = k + 1;
        run["dir"] = "fold-" + std::to_string(k + 1);
        list.push_back(run);
    }
    return {{"folds", folds},       {"seed", seed},          {"metric", metric},
            {"mean", number(statistics.mean)}, {"std", number(statistics.std_dev)}, {"std_ddof", 0},
            {"values", values},     {"runs", list}};
}

std::string format_mean_std(const FoldStatistics& s) {
    if (s.count == 0) return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.4f ± %.4f", s.mean, s.std_dev);
    return buffer;
}

std::optional<CrossValidationResult> cross_validate(const TrainConfig& config, const Dataset& dataset,
                                                    const CrossValidationOptions& options) {
    const std::vector<int> folds = assign_folds(dataset, options.folds, options.seed);
    CrossValidationResult result;
    std::vector<double> values;
    for (std::size_t k = 0; k < options.folds; ++k) {
        const Dataset fold = fold_dataset(dataset, folds, static_cast<int>(k));
        const std::filesystem::path dir = options.dir / ("fold-" + std::to_string(k + 1));
        const std::optional<RunOutcome> outcome =
            run_to_completion(config, fold, {.dir = dir, .quiet = options.trainer_quiet,
                                             .mtag_version = options.mtag_version, .stop = options.stop});
        if (!outcome) return std::nullopt;
        result.metric = outcome->metric;
        values.push_back(outcome->value.value_or(std::nan("")));
        result.runs.push_back(*outcome);
        if (!options.quiet) {
            char line[200];
            std::snprintf(line, sizeof line, "%sfold %zu/%zu: %s %s (best epoch %lld of %lld, %s, %.1f s)%s\n",
                          options.label.c_str(), k + 1, options.folds, outcome->metric.c_str(),
                          outcome->value ? std::to_string(*outcome->value).c_str() : "-",
                          static_cast<long long>(outcome->best_epoch), static_cast<long long>(outcome->epochs_completed),
                          outcome->stop_reason.c_str(), outcome->seconds,
                          outcome->cached ? " [finished before]" : (outcome->resumed ? " [resumed]" : ""));
            std::cerr << line;
        }
    }
    result.statistics = fold_statistics(values);
    write_file_atomically(options.dir / "folds.json", result.to_json(options.folds, options.seed).dump(2) + "\n");
    return result;
}

}  // namespace mtag::data
