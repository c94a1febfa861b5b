#pragma once
// The engine behind `mtag extract`: audio files in, one float32 .npy [bins, frames] per file out, plus
// OUT/features.json. Separate from the CLI parsing so tests can drive it directly.
//
// Output layout: OUT mirrors the inputs' tree. Folder inputs are walked recursively for audio
// extensions (symlinked folders are not followed, so a link cycle cannot loop; pass them as inputs);
// each file's output is its path relative to the common folder of all inputs (or to the manifest's
// folder) with the extension replaced by ".npy" ("a/b.wav" -> "OUT/a/b.npy"). When two
// inputs would map to the same name ("b.wav" and "b.flac"), the later one keeps its extension
// ("b.flac.npy").
//
// Resuming: every finished output is appended as one JSON line to OUT/extract.journal.jsonl (input,
// output, frames, config hash, input size and mtime) right after its .npy was renamed into place, so a
// run killed before features.json is written still records what is done. A rerun skips an input when
// the journal or the previous features.json has an entry with the same config hash, the same input
// size and mtime, and an output whose .npy header has the recorded shape.
//
// Over MPI (`mpirun -np K mtag extract`, ExtractOptions::comm with K > 1): rank r takes the inputs whose
// index in the sorted input list is r modulo K, writes their .npy files and its own journal
// (OUT/extract.journal.rank-R.jsonl); rank 0 gathers every rank's results and writes features.json with
// all outputs and failures, in input order, and the combined journal. A rerun with any K reads every
// journal and features.json, so it skips whatever any earlier run finished.
#include "data/distributed/communicator.hpp"
#include "dsp/feature_config.hpp"
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"
#include "dsp/spooled_input.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mtag::data {

// One input file and where its features go.
struct ExtractItem {
    std::filesystem::path input;     // as found (relative inputs stay relative to the working directory)
    std::filesystem::path relative;  // output path relative to OUT, ending in .npy
    // Set when the input was a stream ("-" or a pipe, dsp/spooled_input.hpp): `input` is then its temporary
    // copy, removed when the last item holding it is gone, and `relative` is the copy's name + ".npy".
    std::shared_ptr<const dsp::SpooledInput> spooled;
    // The input as the user named it, for results and messages.
    std::string shown() const { return spooled ? spooled->source() : input.string(); }
};

// Everything `mtag extract` was asked to do.
struct ExtractOptions {
    std::vector<std::string> inputs;  // files and folders
    std::string manifest;             // CSV with a header containing "path" (paths relative to its folder)
    std::filesystem::path out_dir;
    dsp::FeatureConfig config;
    int jobs = 1;        // files in parallel
    bool quiet = false;  // no progress on stderr
    bool force = false;  // recompute even what a previous run finished
    dsp::ResampleQuality resample_quality = dsp::default_resample_quality;
    dsp::Mp3Decode mp3_decode = dsp::default_mp3_decode;  // full or reduced-rate MP3 synthesis
    double progress_interval_seconds = 10.0;  // between plain progress lines when stderr is not a terminal
    dist::Communicator* comm = nullptr;  // MPI world (`mtag extract` passes it); null = one process
};

// What happened, also written to OUT/features.json.
struct ExtractSummary {
    std::size_t total = 0;
    std::size_t computed = 0;
    std::size_t skipped = 0;  // already done by a previous run with the same config
    std::size_t failed = 0;
    double wall_seconds = 0.0;
    int exit_code() const { return failed == 0 ? 0 : 3; }
};

// Collects the input files (folders recursively, sorted; the manifest's rows in order) and their
// output names. Streams ("-" for standard input, pipes such as <(...)) are copied to temporary files first
// and named by SpooledInput::name() under OUT. Throws mtag::Error for a missing input, a manifest without a
// "path" column, no audio file at all, or a stream that cannot be copied (or is given under MPI, where only
// rank 0 would see it).
std::vector<ExtractItem> collect_extract_items(const ExtractOptions& options);

// Runs the extraction. Per-file failures are reported on stderr (one line each) and in features.json;
// they do not throw. Throws mtag::Error for problems with the run itself (unwritable OUT, bad inputs).
ExtractSummary run_extract(const ExtractOptions& options);

// Reads the rows of a manifest CSV (RFC 4180 quoting): the "path" column, resolved against the
// manifest's folder. Throws mtag::Error naming the file and line.
std::vector<std::filesystem::path> read_manifest_paths(const std::filesystem::path& manifest);

}  // namespace mtag::data
