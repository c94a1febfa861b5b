#pragma once
// The JSON object `mtag eval` prints (saved to a file), read once into typed fields for the confusion,
// ROC and per-tag plots and the report. Only what those need is read; unknown keys are ignored.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data::plot {

struct TagScore {
    std::string tag;
    double roc_auc = 0, pr_auc = 0;  // NaN when the split lacks a class of the tag
    long long positives = 0;
};

struct Confusion {
    std::string name;                           // "confusion" (single-label task) or the group's name
    std::vector<std::string> labels;            // rows: true, columns: predicted
    std::vector<std::vector<long long>> matrix;
};

struct TagCurves {
    std::string tag;
    std::vector<double> fpr, tpr, recall, precision;
};

struct EvalResult {
    std::vector<std::string> models;
    std::string data, split, task;
    double roc_auc_macro = 0, pr_auc_macro = 0;  // NaN when null
    std::optional<double> accuracy;
    long long clips = 0;
    std::vector<TagScore> per_tag;
    std::vector<Confusion> confusions;  // the task's, then each group's
    std::vector<TagCurves> curves;      // per tag (mtag eval writes them; older files have none)
};

// Parses an eval JSON object; throws mtag::Error naming `where` and the key for a wrong or missing field.
EvalResult parse_eval(const std::string& text, const std::string& where);
// Reads a file written from `mtag eval`'s output; throws mtag::Error naming the file (missing, not JSON,
// not an eval result).
EvalResult read_eval(const std::filesystem::path& path);

}  // namespace mtag::data::plot
