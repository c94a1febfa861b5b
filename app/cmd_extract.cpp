// mtag extract: audio files -> one float32 .npy [bins, frames] per file plus OUT/features.json.
#include "app/command.hpp"
#include "data/extract/extract.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_config.hpp"

#include <iostream>
#include <optional>

namespace mtag::app {

namespace {

// Feature flags; each one given overrides the --config file (or the defaults of --feature).
struct FeatureFlags {
    std::string feature;
    std::optional<int> sample_rate, n_fft, hop_length, win_length, n_mels, n_bins, bins_per_octave, n_mfcc;
    std::optional<double> fmin, fmax, power, top_db, amin, log1p_c, lifter, filter_scale;
    std::optional<std::string> window, pad_mode, mel_norm, log, ref;
    std::optional<bool> center, htk;
    bool no_top_db = false;
};

dsp::FeatureConfig build_config(const std::string& config_path, const FeatureFlags& f) {
    dsp::FeatureConfig c;
    if (!config_path.empty()) {
        c = dsp::FeatureConfig::load(config_path);
        if (!f.feature.empty() && dsp::parse_feature_kind(f.feature) != c.kind)
            throw UsageError("--feature " + f.feature + " contradicts the kind '" + dsp::to_string(c.kind) +
                             "' of " + config_path);
    } else if (!f.feature.empty()) {
        c = dsp::FeatureConfig::defaults_for(dsp::parse_feature_kind(f.feature));
    }
    if (f.sample_rate) c.sample_rate = *f.sample_rate;
    if (f.n_fft) c.n_fft = *f.n_fft;
    if (f.hop_length) c.hop_length = *f.hop_length;
    if (f.win_length) c.win_length = *f.win_length;
    if (f.n_mels) c.n_mels = *f.n_mels;
    if (f.n_bins) c.n_bins = *f.n_bins;
    if (f.bins_per_octave) c.bins_per_octave = *f.bins_per_octave;
    if (f.n_mfcc) c.n_mfcc = *f.n_mfcc;
    if (f.fmin) c.fmin = *f.fmin;
    if (f.fmax) c.fmax = *f.fmax;
    if (f.power) c.power = *f.power;
    if (f.top_db) c.top_db = *f.top_db;
    if (f.no_top_db) c.top_db = -1;
    if (f.amin) c.amin = *f.amin;
    if (f.log1p_c) c.log1p_c = *f.log1p_c;
    if (f.lifter) c.lifter = *f.lifter;
    if (f.filter_scale) c.filter_scale = *f.filter_scale;
    if (f.window) c.window = *f.window;
    if (f.pad_mode) c.pad_mode = *f.pad_mode;
    if (f.mel_norm) c.mel_norm = *f.mel_norm;
    if (f.log) c.log = dsp::parse_log_compression(*f.log);
    if (f.ref) c.ref = dsp::parse_db_ref(*f.ref, "--ref");
    if (f.center) c.center = *f.center;
    if (f.htk) c.htk = *f.htk;
    // Derived defaults follow the flags: a new n_fft brings its own win_length unless one was given.
    if (f.n_fft && !f.win_length && config_path.empty()) c.win_length = 0;
    if (f.sample_rate && !f.fmax && config_path.empty()) c.fmax = 0;
    c.resolved();  // validates, with messages naming the field
    return c;
}

}  // namespace

Command add_extract_command(CLI::App& root, const GlobalOptions& global) {
    struct Options {
        data::ExtractOptions extract;
        std::vector<std::string> inputs;
        std::string config;
        std::string out;
        int jobs = 0;
        std::string quality = "medium";
        bool print_config = false;
        FeatureFlags flags;
    };
    auto o = std::make_shared<Options>();
    CLI::App* cmd = root.add_subcommand(
        "extract", "Compute features (log-mel, CQT, MFCC, ...) of audio files into .npy files");
    cmd->add_option("inputs", o->inputs, "Audio files and folders (searched recursively by audio extension)");
    cmd->add_option("--manifest", o->extract.manifest,
                    "CSV with a header path,tags,split; paths relative to its folder")
        ->check(CLI::ExistingFile);
    cmd->add_option("--config", o->config, "Feature config JSON (or a features.json of an earlier run)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", o->out, "Output folder (required); mirrors the input tree, one .npy per file");
    cmd->add_option("--jobs,-j", o->jobs, "Files in parallel (default: all cores; --threads caps it)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--force", o->extract.force, "Recompute outputs an earlier run already finished");
    cmd->add_option("--resample-quality", o->quality, "best | medium | fastest (libsamplerate)")
        ->check(CLI::IsMember({"best", "medium", "fastest"}))
        ->capture_default_str();
    cmd->add_flag("--print-config", o->print_config, "Print the resolved config and its hash, then exit");

    FeatureFlags& f = o->flags;
    auto group =
        cmd->add_option_group("features", "Feature parameters (override --config; names as in librosa)");
    group->add_option("--feature", f.feature, "stft | mel | logmel | cqt | mfcc (default logmel)")
        ->check(CLI::IsMember({"stft", "mel", "logmel", "cqt", "mfcc"}));
    group->add_option("--sample-rate", f.sample_rate,
                      "Resample inputs to this rate (Hz); default 16000 (cqt 22050)");
    group->add_option("--n-fft", f.n_fft, "FFT size (default 512)");
    group->add_option("--hop-length", f.hop_length, "Samples between frames (default 256; cqt 512)");
    group->add_option("--win-length", f.win_length, "Window length (default n_fft)");
    group->add_option("--window", f.window, "hann | hamming | blackman | rectangular");
    group->add_option("--center", f.center, "Centre frames (pad n_fft/2 each side): true | false");
    group->add_option("--pad-mode", f.pad_mode, "constant (librosa) | reflect (torchaudio)");
    group->add_option("--power", f.power, "Exponent of |STFT|: 2 power (default), 1 magnitude");
    group->add_option("--n-mels", f.n_mels, "Mel bands (default 96)");
    group->add_option("--fmin", f.fmin, "Lowest frequency (Hz; default 0, cqt 32.70 = C1)");
    group->add_option("--fmax", f.fmax, "Highest mel frequency (Hz; default sample_rate/2)");
    group->add_option("--htk", f.htk, "HTK mel scale instead of Slaney: true | false");
    group->add_option("--mel-norm", f.mel_norm, "slaney | none");
    group->add_option("--n-bins", f.n_bins, "CQT bins (default 84)");
    group->add_option("--bins-per-octave", f.bins_per_octave, "CQT bins per octave (default 12)");
    group->add_option("--filter-scale", f.filter_scale, "CQT filter scale (default 1)");
    group->add_option("--n-mfcc", f.n_mfcc, "MFCC coefficients (default 20)");
    group->add_option("--lifter", f.lifter, "MFCC liftering (default 0, none)");
    group->add_option("--log", f.log, "db | log1p | none (default db for logmel/mfcc, none otherwise)");
    group->add_option("--ref", f.ref, "dB reference: a number (default 1.0) or max");
    group->add_option("--amin", f.amin, "dB floor (default 1e-10 power, 1e-5 magnitude)");
    group->add_option("--top-db", f.top_db, "Clip to max - top_db dB over the file (default 80)");
    group->add_flag("--no-top-db", f.no_top_db, "No top_db clipping");
    group->add_option("--log1p-c", f.log1p_c, "C in log(1 + C x) (default 10000)");

    cmd->footer(
        "Writes OUT/<relative path>.npy (float32, C order, [bins, frames]) per input and OUT/features.json\n"
        "(config, hash, mtag version, outputs with frame counts, failures). A rerun skips what is done with\n"
        "the same config. Exit code 3 when some files failed.");

    return {cmd, [o, &global]() {
                const dsp::FeatureConfig config = build_config(o->config, o->flags);
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
                e.comm = &data::dist::Communicator::world();
                const int cores = global.resolved_threads();  // --threads, or all cores
                e.jobs =
                    o->jobs > 0 ? std::min(o->jobs, global.threads > 0 ? global.threads : o->jobs) : cores;
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
