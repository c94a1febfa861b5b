#pragma once
// GTZAN genre collection (Tzanetakis & Cook 2002): 10 genres x 100 clips of 30 s.
//
// Layouts accepted: ROOT/genres/<genre>/<genre>.000NN.{au,wav} (the original release),
// ROOT/genres_original/<genre>/<genre>.000NN.wav (the Kaggle re-release), or the genres folder
// itself. Single-label: the vocabulary is the sorted genre folder names, each clip one-hot.
// Splits: user list files (DatasetOptions::split_files, e.g. the artist-filtered 443/197/290 lists
// with lines like "blues/blues.00012.wav"; keys match by file name without extension, so .au and .wav
// both match), else a seeded stratified split (DatasetOptions::seed, fractions).
// Every file's header is read (1,000 small files), which gives the durations and catches the
// undecodable jazz.00054.wav of the re-release.
#include "data/sets/dataset.hpp"

#include <filesystem>

namespace mtag::data {

// The folder that holds the genre folders, or an empty path when `path` is not GTZAN-shaped.
std::filesystem::path find_gtzan_genres(const std::filesystem::path& path);

// Loads GTZAN; throws mtag::Error when the layout is not found or nothing usable remains.
Dataset load_gtzan(const std::filesystem::path& path, const DatasetOptions& options = {});

}  // namespace mtag::data
