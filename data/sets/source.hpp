#pragma once
// Which dataset to load and how: the options a user names, on the command line (`--data`, `--format`,
// `--audio-root`, `--split-file`, `--mtat-split`, `--top-n`, `--jamendo-split`, `--jamendo-category`,
// `--duration-cache`; app/dataset_flags.hpp) or in a training config's `data` section (the same names with
// underscores). `dataset stats`, `train`, `eval` and `tag --data` all load through load_dataset(source, ...),
// so one set of options means the same thing everywhere.
#include "data/sets/dataset.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtag::data {

struct DatasetSource {
    std::string path;                         // annotation file or dataset folder
    std::string format = "auto";              // auto | mtat | gtzan | jamendo | csv
    std::string audio_root;                   // "" = next to the annotations
    std::vector<std::string> split_files;     // split lists or key,split tables; override the format's split
    MtatSplitRule mtat_split = MtatSplitRule::lee;
    std::size_t top_n = 50;                   // MTAT vocabulary size
    int jamendo_split = 0;                    // MTG-Jamendo data/splits/split-K
    std::string jamendo_category;             // "" (all) | genre | instrument | mood/theme | top50
    std::string duration_cache;               // TSV cache of clip durations ("" = none)

    template <class V>
    void visit(V& v) {
        v.field("path", path, "dataset annotation file or folder (--data)");
        v.field("format", format, "auto | mtat | gtzan | jamendo | csv (--format)");
        v.field("audio_root", audio_root, "folder the annotation paths are relative to; \"\" = next to the annotations (--audio-root)");
        v.field("split_files", split_files,
                "split lists (train*/valid*/test*.txt) or key,split tables, or folders of them; override the dataset's split (--split-file)");
        v.choice("mtat_split", mtat_split,
                 std::vector<std::pair<MtatSplitRule, const char*>>{{MtatSplitRule::lee, "lee"},
                                                                   {MtatSplitRule::folders, "folders"}},
                 "MagnaTagATune split rule (--mtat-split)");
        v.field("top_n", top_n, "MagnaTagATune vocabulary: the N most frequent tags (--top-n)");
        v.field("jamendo_split", jamendo_split, "MTG-Jamendo data/splits/split-K (--jamendo-split)");
        v.field("jamendo_category", jamendo_category,
                "MTG-Jamendo tags: \"\" (all) | genre | instrument | mood/theme | top50 (--jamendo-category)");
        v.field("duration_cache", duration_cache, "TSV file caching clip durations across runs; \"\" = none (--duration-cache)");
    }

    // Throws mtag::Error naming the option (flag and config key) when a value is out of range.
    void validate() const;
    // The loader options; `base` supplies what is not the user's choice (seed, threads, durations, ...).
    DatasetOptions options(DatasetOptions base = {}) const;
};

// "lee" | "folders"; throws mtag::Error naming --mtat-split for anything else.
MtatSplitRule parse_mtat_split(const std::string& name);
std::string to_string(MtatSplitRule rule);

// Validates, detects the format when it is "auto", and loads. `base` as in DatasetSource::options.
Dataset load_dataset(const DatasetSource& source, const DatasetOptions& base = {});

}  // namespace mtag::data
