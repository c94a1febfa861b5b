// The root parser: global options, subcommand registration, dispatch.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "dsp/error.hpp"
#include "mtag_version.hpp"

#include <iostream>
#include <thread>
#include <vector>

namespace mtag::app {

int GlobalOptions::resolved_threads() const {
    if (threads > 0) return threads;
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : static_cast<int>(cores);
}

int run_cli(int argc, const char* const* argv) {
    CLI::App root{"mtag: music tagging from audio files to features, models, tags and embeddings", "mtag"};
    root.set_version_flag("--version", std::string("mtag ") + mtag::version);
    root.require_subcommand(1);
    // Global options may be given before or after the subcommand name.
    root.fallthrough();

    GlobalOptions global;
    root.add_option("--threads", global.threads, "Threads to use in all (0 = all cores)")
        ->check(non_negative)
        ->capture_default_str();
    root.add_option("--seed", global.seed, "Seed for every random choice")->capture_default_str();
    root.add_flag("--quiet,-q", global.quiet, "No progress or log lines on stderr");

    std::vector<Command> commands;
    commands.push_back(add_info_command(root, global));
    commands.push_back(add_synth_command(root, global));
    commands.push_back(add_bench_command(root, global));
    commands.push_back(add_dataset_command(root, global));
    commands.push_back(add_extract_command(root, global));
    commands.push_back(add_augment_command(root, global));
    commands.push_back(add_model_command(root, global));
    commands.push_back(add_tag_command(root, global));
    commands.push_back(add_eval_command(root, global));
    commands.push_back(add_train_command(root, global));
    commands.push_back(add_sweep_command(root, global));
    commands.push_back(add_config_command(root, global));
    commands.push_back(add_plot_command(root, global));
    commands.push_back(add_report_command(root, global));

    try {
        root.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version arrive as ParseErrors with exit code 0; CLI11 prints the selected
        // subcommand's help.
        if (e.get_exit_code() == 0) return root.exit(e);
        throw UsageError(e.what() + std::string(" (run 'mtag --help')"));
    }
    for (const Command& command : commands) {
        if (command.parser->parsed()) return command.run();
    }
    throw UsageError("no subcommand given (run 'mtag --help')");
}

}  // namespace mtag::app
