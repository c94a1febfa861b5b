// mtag dataset stats: loads a dataset as training would and prints what it holds as one JSON object.
#include "app/command.hpp"
#include "app/dataset_flags.hpp"
#include "data/sets/source.hpp"
#include "dsp/error.hpp"

#include <iostream>

namespace mtag::app {

Command add_dataset_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        DatasetFlags dataset;
        bool no_durations = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App* cmd =
        root.add_subcommand("dataset", "Inspect a dataset (MTAT, GTZAN, MTG-Jamendo or CSV manifest)");
    cmd->require_subcommand(1);
    CLI::App* stats = cmd->add_subcommand("stats",
                                          "Print clips per split, tags, tag counts per split, hours and "
                                          "skipped items as one JSON object");
    stats->add_option("--data", options->dataset.data, "Annotation file or dataset folder")->required();
    add_dataset_flags(stats, options->dataset);
    stats->add_flag("--no-durations", options->no_durations,
                    "Do not read audio headers (hours then count only "
                    "durations the annotations give)");
    stats->footer(
        "Exit code 0 when clips are usable (skipped items are listed under \"problems\"), 1 when "
        "nothing usable remains.");
    return {cmd, [options, &global]() {
                data::DatasetSource source;
                apply_dataset_flags(options->dataset, source);
                data::DatasetOptions base;
                base.seed = global.seed;
                base.read_durations = !options->no_durations;
                base.threads = global.resolved_threads();
                const data::Dataset dataset = data::load_dataset(source, base);
                if (!global.quiet && !dataset.problems.empty())
                    std::cerr << "mtag dataset: " << dataset.problems.size()
                              << " items skipped (see \"problems\")\n";
                std::cout << data::dataset_stats(dataset).dump() << std::endl;
                return 0;
            }};
}

}  // namespace mtag::app
