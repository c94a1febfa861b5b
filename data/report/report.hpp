#pragma once
// The training report (`mtag report`, `mtag train --report`, `mtag eval --report`): one self-contained
// HTML file (inline CSS, inline SVG figures, a few lines of inline script to sort the per-tag table; no
// network, no external file) with
//   #model-card  architecture, parameters, front end, data, recipe (model.json and config.json)
//   #curves      loss, validation metrics and learning rate per epoch (data/plot curves)
//   #diagnosis   the automatic reading of the loss curves (diagnosis.hpp)
//   #per-tag     per-tag ROC-AUC / PR-AUC / positives as a sortable table, and the sorted bars
//   #confusion   the confusion matrix (single-label runs, or a --group of mtag eval)
//   #taggrams    taggrams of the first few clips of the evaluated split
// The evaluation sections need an eval result (--eval, or RUN/eval.json which `mtag eval --report`
// writes); without one they say how to get it.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace mtag::data::report {

struct ReportOptions {
    std::filesystem::path run;                  // a run folder written by mtag train
    std::optional<std::filesystem::path> eval;  // mtag eval output; default RUN/eval.json when it exists
    std::size_t taggram_clips = 3;              // taggrams of this many clips of the evaluated split
    std::string mtag_version;
};

// The report as an HTML document. Throws mtag::Error naming the run or file for a missing run, a log
// with no epoch, or a corrupt eval result. Clips that fail to tag are listed in the report, not fatal.
std::string render_report(const ReportOptions& options);

// render_report written to `out` through a temporary name and a rename (nothing partial under `out`).
void write_report(const ReportOptions& options, const std::filesystem::path& out);

// The sections the report always holds, by element id (what the browser test looks for).
const char* const* report_section_ids();

}  // namespace mtag::data::report
