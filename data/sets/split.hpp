#pragma once
// Train/valid/test splits: seeded stratified random splits, and split files supplied by the user
// (the published MTAT and GTZAN splits are distributed as lists of clips).
#include "data/sets/dataset.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mtag::data {

// Assigns every clip a split so that each tag is spread over the splits in the given fractions, as
// far as the counts allow, with a seeded shuffle deciding ties. Multi-label data use iterative
// stratification (rarest tag first), which reduces to per-class proportional splitting for one-hot
// (genre) data. Deterministic for a given seed and clip order.
// ref: Sechidis, Tsoumakas & Vlahavas 2011, "On the stratification of multi-label data"
void stratified_split(Dataset& dataset, std::uint64_t seed, const SplitFractions& fractions = {});

// A clip key (id, relative path or file name) -> split, read from split files.
using SplitAssignment = std::map<std::string, Split>;

// Reads split files. Two forms are accepted, per file:
//  - a list file whose name starts with the split ("train_filtered.txt", "valid.txt", "test.tsv",
//    "validation.txt"): one clip per line, the clip's key in the first column (tab or comma separated);
//  - a table with two columns "key<TAB or ,>split" per line (a header line "path,split" is skipped).
// A folder stands for the files in it. Throws mtag::Error for unreadable files or unknown split names.
SplitAssignment read_split_files(const std::vector<std::filesystem::path>& paths);

// Gives each clip the split its key has in `assignment`, trying the clip id, its relative path and the
// file name without extension (so "blues/blues.00012.wav" matches "blues.00012.au"). Clips absent from
// the assignment are removed and reported as problems ("not in the split files").
void apply_split_assignment(Dataset& dataset, const SplitAssignment& assignment);

// The common last step of the loaders: user split files when given (they win), else a seeded
// stratified split when the data bring no split of their own (`has_own_splits` false).
void assign_splits(Dataset& dataset, const DatasetOptions& options, bool has_own_splits);

// Writes the split of every clip as "relative_path,split" lines (readable by read_split_files).
void write_split_file(const std::filesystem::path& path, const Dataset& dataset);

}  // namespace mtag::data
