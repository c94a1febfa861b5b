// mtag extract: audio files -> one float32 .npy [bins, frames] per file plus OUT/features.json.
#include "app/command.hpp"
#include "app/number_checks.hpp"
#include "app/resample_flag.hpp"
#include "app/feature_flags.hpp"
#include "data/extract/extract.hpp"
#include "data/run/output_lock.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_config.hpp"

#include <iostream>
#include <optional>

namespace mtag::app {

Command add_extract_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        data::ExtractOptions extract;
        std::vector<std::string> inputs;
        std::string config;
        std::string out;
        int jobs = 0;
        std::string quality = dsp::to_string(dsp::default_resample_quality);
        std::string mp3_decode = dsp::to_string(dsp::default_mp3_decode);
        bool print_config = false;
        FeatureFlags flags;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = root.add_subcommand(
        "extract", "Compute features (log-mel, CQT, MFCC, ...) of audio files into .npy files");
    cmd->add_option("inputs", o->inputs, "Audio files and folders (searched recursively by audio extension); '-' reads standard input, and pipes "
                    "such as <(ffmpeg ...) work too (copied to a temporary file first)");
    cmd->add_option("--manifest", o->extract.manifest,
                    "CSV with a header path,tags,split; paths relative to its folder")
        ->check(CLI::ExistingFile);
    cmd->add_option("--config", o->config, "Feature config JSON (or a features.json of an earlier run)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", o->out, "Output folder (required); mirrors the input tree, one .npy per file");
    cmd->add_option("--jobs,-j", o->jobs, "Files in parallel (default: all cores; --threads caps it)")
        ->check(non_negative);
    cmd->add_flag("--force", o->extract.force, "Recompute outputs an earlier run already finished");
    add_resample_quality_flag(cmd, o->quality, "Resampler from each file's rate to the config's");
    add_mp3_decode_flag(cmd, o->mp3_decode);
    cmd->add_flag("--print-config", o->print_config, "Print the resolved config and its hash, then exit");

    add_feature_flags(cmd, o->flags, {"stft", "mel", "logmel", "cqt", "mfcc"});

    cmd->footer(
        "Writes OUT/<relative path>.npy (float32, C order, [bins, frames]) per input and OUT/features.json\n"
        "(config, hash, mtag version, outputs with frame counts, failures). A rerun skips what is done with\n"
        "the same config. Exit code 3 when some files failed.");

    return {cmd, [o, &global]() {
                const dsp::FeatureConfig config = build_feature_config(o->config, o->flags);
                if (o->print_config) {
                    std::cout << nlohmann::ordered_json{{"config_hash", config.hash()},
                                                        {"config", config.to_json()}}
                                     .dump(2)
                              << "\n";
                    return 0;
                }
                if (o->inputs.empty() && o->extract.manifest.empty())
                    throw UsageError("mtag extract needs input files, folders or --manifest");
                if (o->out.empty()) throw UsageError("mtag extract needs --out DIR");
                data::ExtractOptions& e = o->extract;
                e.inputs = o->inputs;
                e.out_dir = o->out;
                e.config = config;
                e.quiet = global.quiet;
                e.resample_quality = dsp::parse_resample_quality(o->quality);
                e.mp3_decode = dsp::parse_mp3_decode(o->mp3_decode);
                e.comm = &data::dist::Communicator::world();
                const int cores = global.resolved_threads();  // --threads, or all cores
                e.jobs =
                    o->jobs > 0 ? std::min(o->jobs, global.threads > 0 ? global.threads : o->jobs) : cores;
                // One process per output folder (the ranks of one MPI job share it on purpose: rank 0 locks).
                std::optional<data::OutputLock> lock;
                if (e.comm->is_root()) lock.emplace(data::OutputLock::in_directory(e.out_dir, "--out " + o->out, "mtag extract"));
                const data::ExtractSummary summary = data::run_extract(e);
                if (!e.comm->is_root()) return summary.exit_code();
                std::cout << nlohmann::ordered_json{{"out", e.out_dir.string()},
                                                    {"config_hash", config.hash()},
                                                    {"total", summary.total},
                                                    {"computed", summary.computed},
                                                    {"skipped", summary.skipped},
                                                    {"failed", summary.failed},
                                                    {"wall_seconds", summary.wall_seconds}}
                                 .dump()
                          << "\n";
                return summary.exit_code();
            }};
}

}  // namespace mtag::app
