#pragma once
// The one dataset model: every loader (MTAT, GTZAN, MTG-Jamendo, CSV manifest) produces a Dataset, and
// the trainer, the normalisation statistics and `mtag dataset stats` consume only this.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::data {

// Fractions of a random split; they must be >= 0 and sum to 1 (checked by stratified_split).
struct SplitFractions {
    double train = 0.7;
    double valid = 0.1;
    double test = 0.2;
};

// How MagnaTagATune is split (see data/mtat.hpp for the exact rules).
enum class MtatSplitRule { lee, folders };

// Options shared by all loaders; each loader reads the fields that concern it.
struct DatasetOptions {
    std::filesystem::path audio_root{};  // where the audio lives, when not found next to the annotations
    std::vector<std::filesystem::path>
        split_files{};                       // user-supplied splits (data/split.hpp), override the rest
    std::uint64_t seed = 0;                  // seeded stratified split when a dataset has none
    SplitFractions fractions{};              // idem
    bool check_audio = true;                 // skip (and report) clips whose audio file is missing
    bool read_durations = false;             // read every clip's duration from its header (for hours)
    std::filesystem::path duration_cache{};  // TSV cache for those durations (empty: none)
    int threads = 1;                         // for reading audio headers
    std::size_t mtat_top_n = 50;             // MTAT vocabulary size
    MtatSplitRule mtat_split = MtatSplitRule::lee;  // MTAT split rule
    int jamendo_split = 0;                          // MTG-Jamendo data/splits/split-K
    std::string jamendo_category{};                 // "", "genre", "instrument", "mood/theme"
};

// Which part of the data a clip belongs to. Validation is spelled "valid" everywhere in mtag.
enum class Split { train, valid, test };

// "train", "valid", "test".
std::string to_string(Split split);
// Parses "train"/"valid"/"test" and the common spellings "training", "validation", "val", "eval",
// "testing" (case-insensitive); nullopt for anything else.
std::optional<Split> parse_split(std::string_view text);
// All splits in their canonical order (train, valid, test).
inline constexpr Split all_splits[] = {Split::train, Split::valid, Split::test};

// One audio clip with its labels.
struct Clip {
    std::string id;                    // dataset key: MTAT clip_id, "blues.00012", "track_0000214", ...
    std::filesystem::path audio_path;  // absolute or as the user gave it; loaders resolve relative paths
    std::string relative_path;         // the path as written in the annotations (for split files)
    std::vector<std::uint8_t> tags;    // multi-hot over Dataset::vocabulary (one-hot for genre data)
    Split split = Split::train;
    std::optional<double> duration_seconds;  // known from the annotations or the audio header
};

// An item a loader skipped, and why (missing audio, unreadable row, unknown split, duplicate path, ...).
struct Problem {
    std::string item;    // file, row ("annotations_final.csv:17") or clip id
    std::string reason;  // one line a user can act on
};

// Clips over a named tag vocabulary, plus everything that was skipped on the way.
struct Dataset {
    std::string format;                   // "mtat", "gtzan", "jamendo", "csv"
    std::filesystem::path source;         // what was loaded (annotation file or folder)
    std::vector<std::string> vocabulary;  // tag names; Clip::tags[i] refers to vocabulary[i]
    std::vector<Clip> clips;
    std::vector<Problem> problems;
    // Clips left out on purpose by a published rule (not data problems), counted by rule, e.g.
    // {"no top-50 tag (lee split)": 4770}.
    std::map<std::string, std::size_t> filtered;

    // Number of clips in a split.
    std::size_t count(Split split) const;
    // Indices into `clips` of one split, in dataset order.
    std::vector<std::size_t> indices(Split split) const;
    // How many clips of a split carry each tag (same order as `vocabulary`).
    std::vector<std::size_t> tag_counts(Split split) const;
    // Total hours of the clips whose duration is known.
    double hours() const;
    // Records a skipped item.
    void skip(std::string item, std::string reason) {
        problems.push_back({std::move(item), std::move(reason)});
    }
    // Throws mtag::Error naming the source and the first problems when no clip is usable.
    void require_usable() const;
    // Multi-hot targets of one clip as floats (what BCE losses take).
    std::vector<float> targets(std::size_t clip_index) const;
};

// The summary printed by `mtag dataset stats`: format, source, splits, tags, tag_counts per split,
// hours, clips_without_duration, problems.
nlohmann::ordered_json dataset_stats(const Dataset& dataset);

// Drops tags no clip carries and clips with no tag left (each dropped clip becomes a problem with
// `reason`); keeps the vocabulary order otherwise.
void drop_untagged_clips(Dataset& dataset, const std::string& reason);

// Reads the duration of every clip that has none from its audio header (dsp::read_audio_info) on
// `threads` threads. A clip whose header cannot be read is removed and reported as a problem.
// `cache` (optional) is a TSV of "path, size, mtime, seconds" lines: entries whose file size and
// modification time still match are used without opening the file, and new ones are appended, so a
// second run over 25,000 MP3s reads no headers.
void fill_durations(Dataset& dataset, int threads, const std::filesystem::path& cache = {});

}  // namespace mtag::data
