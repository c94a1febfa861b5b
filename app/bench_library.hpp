#pragma once
// What `mtag bench tag` and `mtag bench extract` share: the generated music library they run over, the
// measured child processes, the Python reference's interpreter, and the table they print.
#include "app/bench.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtag::app {

// The library: `files` songs of `min_seconds`..`max_seconds` (seeded uniform lengths), 44.1 kHz stereo,
// even indices MP3 (libsndfile's LAME encoder), odd ones FLAC, music from data/synth (a composed score per
// file rendered by fluidsynth with the General MIDI soundfont). Cached: DIR/library.json records the
// options and the files once all are written, and a later run with the same options reuses them.
struct LibraryOptions {
    std::filesystem::path dir;  // empty: <mtag's folder>/bench_library/<files>x<min>-<max>s-seed<seed>
    int files = 200;
    double min_seconds = 30.0, max_seconds = 300.0;
    std::uint64_t seed = 0;
    int threads = 1;  // rendering and encoding threads
};

struct LibraryFile {
    std::filesystem::path path;
    double seconds = 0;
};

struct Library {
    std::filesystem::path dir;
    std::vector<LibraryFile> files;
    double audio_seconds() const;
    std::size_t count_extension(const std::string& ext) const;
};

// Makes (or reuses) the library; progress on stderr unless quiet. Throws mtag::Error naming the folder.
Library make_library(const LibraryOptions& options, bool quiet);

// A child process's cost, from wait4(): wall seconds, CPU seconds (user + system) and peak RSS (ru_maxrss).
struct ChildCost {
    int exit_code = -1;
    double wall_seconds = 0, cpu_seconds = 0;
    double peak_rss_mb = 0;
};

// Runs argv (argv[0] looked up on PATH unless it has a slash) with stdout and stderr to files, and
// waits for it. `env` entries ("NAME=value") are added to this process's environment for the child.
ChildCost run_child(const std::vector<std::string>& argv, const std::filesystem::path& stdout_file,
                    const std::filesystem::path& stderr_file, const std::vector<std::string>& env = {});

// This mtag executable (/proc/self/exe), to run as a child.
std::string self_executable();

// The interpreter that imports torch, torchaudio and soundfile (context.reference_python, then
// /usr/bin/python3 when that is "python3"), or nullopt with the reason in `why`.
std::optional<std::string> torch_python(const BenchContext& context, std::string& why);

// One row of a throughput table.
struct ThroughputRow {
    int threads = 1;
    std::string pipeline;  // "mtag tag", "pytorch+torchaudio (intraop)", ...
    std::size_t files = 0;
    double audio_seconds = 0;
    ChildCost cost;
    double files_per_second() const { return files / cost.wall_seconds; }
    double audio_hours_per_hour() const { return audio_seconds / cost.wall_seconds; }
    double cpu_seconds_per_audio_hour() const { return cost.cpu_seconds / (audio_seconds / 3600.0); }
};

// Prints the table's header, a row, or a row as a JSON line (context.json).
void print_throughput_header(const BenchContext& context);
void print_throughput_row(const BenchContext& context, const std::string& bench, const ThroughputRow& row);
// Prints "mtag / reference" for files/s and peak RSS.
void print_ratio(const BenchContext& context, const std::string& bench, const ThroughputRow& mtag,
                 const ThroughputRow& reference, const std::string& label = "ratio mtag / reference");

// The model both sides run: --model DIR, else a randomly initialised short_chunk_cnn (seeded `mtag model
// init`, imported with 50 placeholder tags so that `mtag tag` takes it) made once into the library folder.
std::filesystem::path reference_model(const BenchContext& context, const Library& library);

std::vector<std::string> library_paths(const Library& library);

// Runs prefix + files[k*batch .. (k+1)*batch) + suffix for each batch k of `batch_files` files (0: all in
// one), one process after the other ("{k}" in suffix becomes the batch number); stdout and stderr to
// out_stem.K.out/.err. Sums wall and CPU seconds, keeps the largest peak RSS and the last failing exit code.
ChildCost run_in_batches(const std::vector<std::string>& prefix, const std::vector<std::string>& files,
                         std::size_t batch_files, const std::filesystem::path& out_stem,
                         const std::vector<std::string>& suffix);

// --batch-files N (files per process; 0 = all, the default).
std::size_t batch_files_option(const BenchContext& context);

// The library, model and process layout above the table.
void print_library(const BenchContext& context, const std::string& bench, const Library& library,
                   const std::filesystem::path& model, std::size_t batch_files);

// The value after `flag` in context.extra (nullopt when absent); throws UsageError when it has none.
std::optional<std::string> extra_value(const BenchContext& context, const std::string& flag);
// The thread counts of the rows: --thread-counts A,B,... or 1, 2 and every core.
std::vector<int> bench_thread_counts(const BenchContext& context);
// The library options from --library, --files, --min-seconds, --max-seconds (--quick: 2 files of 4-6 s).
LibraryOptions library_options(const BenchContext& context);

}  // namespace mtag::app
