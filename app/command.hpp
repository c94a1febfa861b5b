#pragma once
// How subcommands plug into the CLI: each app/cmd_*.cpp registers its parser and a run function.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace mtag::app {

// Options every subcommand honours where it makes sense (given before or after the subcommand name).
struct GlobalOptions {
    int threads = 0;         // 0 = all cores
    std::uint64_t seed = 0;  // every random choice derives from it
    bool quiet = false;      // no progress or logs on stderr

    // The thread count to use: --threads, or the number of cores when it is 0.
    int resolved_threads() const;
};

// A parsed subcommand: CLI11 fills its options, run() does the work and returns the exit code
// (0 success, 1 error, 2 usage, 3 some inputs failed but the rest were processed).
struct Command {
    CLI::App* parser = nullptr;
    std::function<int()> run;
};

Command add_info_command(CLI::App& root, const GlobalOptions& global);
Command add_synth_command(CLI::App& root, const GlobalOptions& global);
Command add_bench_command(CLI::App& root, const GlobalOptions& global);
Command add_dataset_command(CLI::App& root, const GlobalOptions& global);
Command add_extract_command(CLI::App& root, const GlobalOptions& global);
Command add_augment_command(CLI::App& root, const GlobalOptions& global);
Command add_model_command(CLI::App& root, const GlobalOptions& global);
Command add_tag_command(CLI::App& root, const GlobalOptions& global);
Command add_eval_command(CLI::App& root, const GlobalOptions& global);
Command add_train_command(CLI::App& root, const GlobalOptions& global);
Command add_sweep_command(CLI::App& root, const GlobalOptions& global);
Command add_config_command(CLI::App& root, const GlobalOptions& global);
Command add_plot_command(CLI::App& root, const GlobalOptions& global);
Command add_report_command(CLI::App& root, const GlobalOptions& global);

// Parses argv and runs the chosen subcommand; throws mtag::Error / mtag::UsageError.
int run_cli(int argc, const char* const* argv);

}  // namespace mtag::app
