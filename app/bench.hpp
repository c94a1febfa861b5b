#pragma once
// Benchmarks behind `mtag bench AREA`: each prints figures (and ratios against a reference measured in
// the same run, where one exists) on stdout. Benchmarks, not tests: nothing here asserts a speed.
#include "app/command.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <string>

namespace mtag::nn {
class Shape;
class Tensor;
}  // namespace mtag::nn

namespace mtag::app {

// What every benchmark gets from the command line.
struct BenchContext {
    const GlobalOptions* global = nullptr;
    std::filesystem::path work_dir;  // scratch space for generated inputs
    bool json = false;               // JSON lines instead of a table
    bool quick = false;              // fewer repetitions (used by the CLI smoke tests)
    // bench nn / train: mtag and the reference are timed in turn this many times, and each side keeps its
    // best figure per case. On a shared VM a slow spell lasts seconds (two threads of a pure FMA loop
    // measured 37+37 GFLOP/s against 78+78 for a few seconds at a time), long enough to spoil every run
    // of one case within a single pass.
    int passes = 3;
    std::string reference_python = "python3";  // runs scripts/bench_*.py for the reference figures
    std::vector<std::string> extra;  // AREA-specific arguments after the area name
};

// What a reference script printed: every stdout line that is a JSON value, in order, and the interpreter
// that ran it.
struct ReferenceOutput {
    std::string interpreter;
    std::vector<nlohmann::json> lines;
};

// Runs `context.reference_python scripts/<script> args...` (falling back to /usr/bin/python3 when the
// default "python3" lacks the modules) and keeps the JSON lines of its stdout. Returns nullopt and prints
// why on stderr when the interpreter or the script is missing, or the script fails or prints no JSON:
// references are optional, the benchmark goes on without them. Scripts are looked up in
// $MTAG_SOURCE_DIR/scripts, next to the executable's parent folders, then ./scripts.
// `environment` ("NAME=value" entries, e.g. LD_PRELOAD of another allocator) is set for the script only.
std::optional<ReferenceOutput> run_reference_lines(const BenchContext& context, const std::string& script,
                                                   const std::vector<std::string>& args,
                                                   const std::vector<std::string>& environment = {});
// The same for a script whose result is its last JSON line.
std::optional<nlohmann::json> run_reference_script(const BenchContext& context, const std::string& script,
                                                   const std::vector<std::string>& args,
                                                   const std::vector<std::string>& environment = {});

// scripts/<script> ($MTAG_SOURCE_DIR/scripts, next to the executable's parent folders, then ./scripts).
std::optional<std::filesystem::path> find_reference_script(const std::string& script);

// Folds one pass's reference result into the best so far (BenchContext::passes): the first result is
// taken whole (memory figures included); later ones only improve `fields`, smaller values being better
// (times) or larger ones (rates).
enum class Better { smaller, larger };
void keep_best_reference(nlohmann::json& best, const nlohmann::json& result,
                         std::initializer_list<const char*> fields, Better better);

// CPU seconds used by this process (all threads) since it started.
double process_cpu_seconds();

// CPU seconds used by the calling thread (clock_gettime, nanosecond resolution): single-thread figures.
double thread_cpu_seconds();

// A "kB" field of /proc/self/status ("VmRSS", "VmHWM"); 0 when it is missing.
long process_status_kb(const std::string& field);

// Resets VmHWM to the current resident size (/proc/self/clear_refs 5); false when the kernel refuses.
bool reset_peak_rss();

// A tensor of standard normal values drawn from mt19937_64(seed) in order: the same input for every run.
nn::Tensor random_normal_tensor(const nn::Shape& shape, std::uint64_t seed);

// Waits 3 s before a measured process (an mtag child or a reference script) starts: the kernel goes on
// reclaiming the memory of a process that freed gigabytes after it exits, and a measurement started at
// once ran 10-15% slower (cnn1d training right after PyTorch's sample_cnn_se: 3270-3430 against
// 3850-3920 clips/s after a 3 s pause). Both sides wait alike.
void settle_before_measuring();

// Wall-clock seconds from a steady clock.
inline double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int bench_io(const BenchContext& context);
int bench_dsp(const BenchContext& context);
int bench_augment(const BenchContext& context);
int bench_nn(const BenchContext& context);
int bench_data(const BenchContext& context);
// `mtag bench train`: preset training/inference throughput and memory against PyTorch.
int bench_train(const BenchContext& context);
// `mtag bench optim`: optimizer steps and tagging metrics against PyTorch / scikit-learn.
int bench_optim(const BenchContext& context);
// `mtag bench tag`: `mtag tag` over a generated library against a PyTorch + torchaudio pipeline.
int bench_tag(const BenchContext& context);
// `mtag bench extract`: `mtag extract` (log-mel .npy) over the same library against torchaudio.
int bench_extract(const BenchContext& context);
// `mtag bench python`: the Python module against torchaudio / PyTorch (scripts/bench_python.py).
int bench_python(const BenchContext& context);

}  // namespace mtag::app
