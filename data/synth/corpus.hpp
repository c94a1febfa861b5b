#pragma once
// The synthetic demo corpus (`mtag synth --out DIR`): procedurally composed multi-genre clips rendered
// with fluidsynth into DIR/audio/clip_NNNNN.wav, listed in DIR/manifest.csv (`path,tags,split`, the
// CSV manifest format of the dataset loaders, written by data::write_manifest) and described in
// DIR/synth.json (options, tag rules and each clip's tempo, key, meter and instruments).
//
// Determinism: clip i depends only on (seed, i, seconds, sample rate, channels, soundfont): its genre
// comes from a seeded permutation of the genres within each block of as many clips as there are
// genres (so genres stay balanced), its score from its own derived seed, and rendering resets the
// synth per clip, so the thread count never changes a byte.
#include "data/synth/score.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace mtag::data {

// Options of write_synth_corpus.
struct SynthCorpusOptions {
    std::filesystem::path out;  // the corpus folder (created)
    int clips = 300;
    double seconds = 10.0;  // clip length
    int sample_rate = 22050;
    int channels = 1;
    std::uint64_t seed = 0;
    std::filesystem::path soundfont;  // empty: synth::default_soundfont()
    int threads = 1;                  // rendering threads, each with its own synth
    // Called after each clip (from worker threads, serialised) with clips done and total.
    std::function<void(int done, int total)> progress;
};

// One clip of the corpus.
struct SynthClip {
    std::string path;               // relative to the corpus folder, e.g. "audio/clip_00042.wav"
    std::vector<std::string> tags;  // synth::score_tags
    std::string split;              // "train", "valid" or "test"
};

// The genre (index into synth::styles()) of clip `index` under `seed`.
int synth_clip_style(std::uint64_t seed, int index);

// The score of clip `index` under `seed` (what write_synth_corpus renders).
synth::Score synth_clip_score(std::uint64_t seed, int index, double seconds);

// Splits stratified by genre with the loaders' rule (data::stratified_split over one-hot genre labels,
// 70/10/20, seeded). `genres[i]` is clip i's genre; returns clip i's split ("train", "valid", "test").
std::vector<std::string> stratified_splits(const std::vector<int>& genres, std::uint64_t seed);

// Renders the corpus on `threads` threads and writes the audio, manifest.csv and synth.json, each
// through a temporary name then rename. Throws mtag::Error on bad options, a missing soundfont or a
// write failure.
std::vector<SynthClip> write_synth_corpus(const SynthCorpusOptions& options);

}  // namespace mtag::data
