#pragma once
// MagnaTagATune (Law et al. 2009) with the conventions of the published tagging results.
//
// annotations_final.csv is tab-separated with every field quoted: "clip_id", 188 tag columns of 0/1,
// "mp3_path" relative to the audio root (e.g. "f/american_bach_soloists-...-30-59.mp3").
// Vocabulary: the top-N tags (default 50) by column sum over all rows, ties broken by column order.
// Splits (the first path component is one of the 16 hex folders 0-f):
//  - folders: 0-b train, c valid, d-f test; clips with no top-N tag are kept.
//  - lee (default): the same folders, keeping only clips with at least one top-N tag that are longer
//    than 29.1 s (durations from the audio headers). On the full release: 15,244 / 1,529 / 4,332 clips
//    (folders: 18,706 / 1,825 / 5,329). ref: Lee et al. 2017 sample-level CNN; Won et al. 2020 eval.
//  - user split files (DatasetOptions::split_files, keyed by clip_id or mp3_path) override both.
// Both rules drop clip ids 35644, 55753 and 57881, whose MP3s are empty in the release.
#include "data/sets/dataset.hpp"

#include <filesystem>

namespace mtag::data {

// Clips longer than this (seconds) are kept by the lee rule.
inline constexpr double mtat_lee_min_seconds = 29.1;

// True for the clip ids with empty MP3 files in the MTAT release.
bool is_broken_mtat_clip(const std::string& clip_id);

// Loads MTAT from annotations_final.csv or the folder holding it. The audio root is
// options.audio_root, else the first of {folder, folder/mp3, folder/audio, folder/../mp3} that holds
// the first clip's MP3. Throws mtag::Error when the file is not MTAT-shaped or nothing usable remains.
Dataset load_mtat(const std::filesystem::path& path, const DatasetOptions& options = {});

}  // namespace mtag::data
