// mtag dataset stats: loads a dataset as training would and prints what it holds as one JSON object.
#include "app/command.hpp"
#include "data/sets/load.hpp"
#include "dsp/error.hpp"

#include <iostream>

namespace mtag::app {

Command add_dataset_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        std::string data;
        std::string format;
        std::string audio_root;
        std::vector<std::string> split_files;
        std::string mtat_split = "lee";
        std::size_t top_n = 50;
        int jamendo_split = 0;
        std::string jamendo_category;
        std::string duration_cache;
        bool no_durations = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App* cmd =
        root.add_subcommand("dataset", "Inspect a dataset (MTAT, GTZAN, MTG-Jamendo or CSV manifest)");
    cmd->require_subcommand(1);
    CLI::App* stats = cmd->add_subcommand("stats",
                                          "Print clips per split, tags, tag counts per split, hours and "
                                          "skipped items as one JSON object");
    stats->add_option("--data", options->data, "Annotation file or dataset folder")->required();
    stats->add_option("--format", options->format, "mtat | gtzan | jamendo | csv (detected when omitted)")
        ->check(CLI::IsMember({"mtat", "gtzan", "jamendo", "csv"}));
    stats->add_option("--audio-root", options->audio_root, "Folder the annotation paths are relative to");
    stats->add_option("--split-file", options->split_files,
                      "Split files or folders (train*.txt/valid*.txt/test*.txt lists or key,split tables)");
    stats->add_option("--mtat-split", options->mtat_split, "MTAT split rule: lee | folders")
        ->check(CLI::IsMember({"lee", "folders"}))
        ->capture_default_str();
    stats->add_option("--top-n", options->top_n, "MTAT vocabulary size")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    stats->add_option("--jamendo-split", options->jamendo_split, "MTG-Jamendo split-K folder")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    stats
        ->add_option("--jamendo-category", options->jamendo_category,
                     "genre | instrument | mood/theme | top50")
        ->check(CLI::IsMember({"genre", "instrument", "mood/theme", "top50"}));
    stats->add_option("--duration-cache", options->duration_cache,
                      "TSV file caching clip durations across runs");
    stats->add_flag("--no-durations", options->no_durations,
                    "Do not read audio headers (hours then count only "
                    "durations the annotations give)");
    stats->footer(
        "Exit code 0 when clips are usable (skipped items are listed under \"problems\"), 1 when "
        "nothing usable remains.");
    return {cmd, [options, &global]() {
                data::DatasetOptions o;
                o.audio_root = options->audio_root;
                for (const std::string& f : options->split_files) o.split_files.emplace_back(f);
                o.seed = global.seed;
                o.read_durations = !options->no_durations;
                o.duration_cache = options->duration_cache;
                o.threads = global.resolved_threads();
                o.mtat_top_n = options->top_n;
                o.mtat_split = options->mtat_split == "folders" ? data::MtatSplitRule::folders
                                                                : data::MtatSplitRule::lee;
                o.jamendo_split = options->jamendo_split;
                o.jamendo_category = options->jamendo_category;
                const data::Dataset dataset =
                    options->format.empty()
                        ? data::load_dataset(options->data, o)
                        : data::load_dataset(options->data, data::parse_dataset_format(options->format), o);
                if (!global.quiet && !dataset.problems.empty())
                    std::cerr << "mtag dataset: " << dataset.problems.size()
                              << " items skipped (see \"problems\")\n";
                std::cout << data::dataset_stats(dataset).dump() << std::endl;
                return 0;
            }};
}

}  // namespace mtag::app
