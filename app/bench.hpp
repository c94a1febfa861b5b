#pragma once
// Benchmarks behind `mtag bench AREA`: each prints figures (and ratios against a reference measured in
// the same run, where one exists) on stdout. Benchmarks, not tests: nothing here asserts a speed.
#include "app/command.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>

namespace mtag::app {

// What every benchmark gets from the command line.
struct BenchContext {
    const GlobalOptions* global = nullptr;
    std::filesystem::path work_dir;  // scratch space for generated inputs
    bool json = false;               // JSON lines instead of a table
    bool quick = false;              // fewer repetitions (used by the CLI smoke tests)
    std::string reference_python = "python3";  // runs scripts/bench_*.py for the reference figures
    std::vector<std::string> extra;  // AREA-specific arguments after the area name
};

// CPU seconds used by this process (all threads) since it started.
double process_cpu_seconds();

// Wall-clock seconds from a steady clock.
inline double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int bench_io(const BenchContext& context);
int bench_dsp(const BenchContext& context);
int bench_augment(const BenchContext& context);
int bench_nn(const BenchContext& context);
int bench_data(const BenchContext& context);
int bench_train(const BenchContext& context);

}  // namespace mtag::app
