#pragma once
// The CSV manifest: mtag's generic dataset format, and what `mtag synth` writes.
//
//   path,tags,split
//   audio/clip_0001.wav,piano;slow;major;jazz,train
//   "audio/a, b.wav",guitar,test
//
// `path` is relative to the manifest's folder, or absolute. `tags` are separated by ';' (spaces around
// a tag are trimmed; an empty field means no tag). `split` is train, valid or test (validation, val,
// training, testing are accepted too); without a split column the clips get a seeded stratified
// 70/10/20 split. An optional `duration` column (seconds) saves reading audio headers. The vocabulary
// is the sorted set of tags that occur.
#include "data/sets/dataset.hpp"
#include "data/sets/split.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mtag::data {

// Loads a manifest (uses options.seed/fractions/split_files/check_audio/read_durations). Rows with a missing
// path, missing audio, an unknown split or a duplicate path are skipped and reported in Dataset::problems;
// throws mtag::Error when the file cannot be read, has no `path` column, or leaves no usable clip.
Dataset load_manifest(const std::filesystem::path& manifest, const DatasetOptions& options = {});

// One row of a manifest to write.
struct ManifestRow {
    std::filesystem::path path{};  // written relative to the manifest's folder when it lies below it
    std::vector<std::string> tags{};
    std::string split{};  // "train", "valid", "test", or empty to leave the split to the reader
    std::optional<double> duration_seconds{};
};

// Writes a manifest (header path,tags,split[,duration]) atomically (temporary file, then rename).
void write_manifest(const std::filesystem::path& manifest, const std::vector<ManifestRow>& rows);

// Writes a Dataset as a manifest (its clips, tags and splits).
void write_manifest(const std::filesystem::path& manifest, const Dataset& dataset);

}  // namespace mtag::data
