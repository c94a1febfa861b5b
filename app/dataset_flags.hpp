#pragma once
// The dataset options shared by `dataset stats`, `train`, `eval` and `tag --data`, declared once: each flag
// is optional, so a command can lay the ones given over its defaults (train: over the config's `data`
// section; eval: over the run's recorded data options).
#include "data/sets/source.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include <optional>
#include <string>
#include <vector>

namespace mtag::app {

struct DatasetFlags {
    std::string data;  // --data (each command declares it: required or not)
    std::optional<std::string> format, audio_root, mtat_split, jamendo_category, duration_cache;
    std::vector<std::string> split_files;
    std::optional<std::size_t> top_n;
    std::optional<int> jamendo_split;

    // Whether any option that selects the split or the vocabulary was given.
    bool any_split_option() const;
};

// Declares --format, --audio-root, --split-file, --mtat-split, --top-n, --jamendo-split, --jamendo-category
// and --duration-cache on `cmd` (not --data). `format_flag` renames --format where the command has its own
// (tag's output format: --data-format).
void add_dataset_flags(CLI::App* cmd, DatasetFlags& flags, const std::string& format_flag = "--format");

// `source` with the flags that were given laid over it (--data too, when given).
void apply_dataset_flags(const DatasetFlags& flags, data::DatasetSource& source);

}  // namespace mtag::app

namespace mtag::app {

// The dataset a trained run is scored on (`eval`, `tag --data`): the flags over the run's recorded data
// options (RUNDIR/config.json's data section) when the dataset has the run's format, so that the split and
// the vocabulary (top_n, mtat_split, jamendo_split, jamendo_category, split_files) are the training's unless
// a flag says otherwise. Says on stderr which options came from the run unless `quiet`.
data::DatasetSource dataset_for_run(const DatasetFlags& flags, const std::filesystem::path& run_dir,
                                    const std::string& command, bool quiet);

// The options that select the split and vocabulary, as recorded in an eval report.
nlohmann::ordered_json dataset_record(const data::DatasetSource& source, const std::string& format);

}  // namespace mtag::app
