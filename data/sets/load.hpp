#pragma once
// One entry point for all dataset formats, with format detection from the path.
#include "data/sets/dataset.hpp"

#include <filesystem>
#include <string>

namespace mtag::data {

enum class DatasetFormat { mtat, gtzan, jamendo, csv };

// "mtat", "gtzan", "jamendo", "csv".
std::string to_string(DatasetFormat format);
// Parses a format name (also "manifest" for csv); throws mtag::UsageError for anything else.
DatasetFormat parse_dataset_format(const std::string& name);

// Guesses the format: annotations_final.csv (or a folder with it) is MTAT; autotagging*.tsv or a folder
// with them or with data/splits/split-K is MTG-Jamendo; a folder with genres/ or genres_original/ (or
// genre folders of <genre>.NNNNN.* files) is GTZAN; any other .csv, or a folder with manifest.csv, is a
// CSV manifest. Throws mtag::Error listing what was looked for when nothing matches.
DatasetFormat detect_format(const std::filesystem::path& path);

// Loads `path` in `format`.
Dataset load_dataset(const std::filesystem::path& path, DatasetFormat format,
                     const DatasetOptions& options = {});

// Detects the format, then loads.
Dataset load_dataset(const std::filesystem::path& path, const DatasetOptions& options = {});

}  // namespace mtag::data
