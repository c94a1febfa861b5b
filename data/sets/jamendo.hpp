#pragma once
// MTG-Jamendo autotagging (Bogdanov et al. 2019).
//
// Files: data/autotagging*.tsv and data/splits/split-K/autotagging*-{train,validation,test}.tsv, each
// "TRACK_ID<TAB>ARTIST_ID<TAB>ALBUM_ID<TAB>PATH<TAB>DURATION<TAB>TAGS..." with the tags (like
// "genre---rock", "instrument---piano", "mood/theme---happy") tab-separated to the end of the row,
// unquoted. Tag names keep their category prefix, as in the published tag lists; the vocabulary is the
// sorted set of tags that occur.
// --data may be the repository clone, its data/ folder, a split-K folder, one split file, or a single
// autotagging*.tsv (then the split is seeded and stratified). DatasetOptions::jamendo_split picks K
// (default 0); jamendo_category ("genre", "instrument", "mood/theme", "top50") uses the category's own
// files (autotagging_genre-*.tsv, ...) when present, else filters the full files by tag prefix and
// drops the tracks left without a tag (counted in Dataset::filtered).
// Audio: DATA_ROOT/<PATH> or its ".low.mp3" variant, under options.audio_root or the first of
// {folder, folder/audio, folder/../audio, folder/raw_30s/audio} that holds the first track.
#include "data/sets/dataset.hpp"

#include <filesystem>

namespace mtag::data {

// True when `path` looks like MTG-Jamendo (an autotagging*.tsv, or a folder with one or with splits).
bool looks_like_jamendo(const std::filesystem::path& path);

// Loads MTG-Jamendo; throws mtag::Error when no autotagging file is found or nothing usable remains.
Dataset load_jamendo(const std::filesystem::path& path, const DatasetOptions& options = {});

}  // namespace mtag::data
