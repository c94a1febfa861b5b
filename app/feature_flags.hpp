#pragma once
// The feature flags of `mtag extract` (--feature, --n-fft, --n-mels, ...), shared by every command that
// computes a feature (extract, plot spectrogram) so that they parse the same options the same way.
#include "dsp/feature_config.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace mtag::app {

// Feature flags; each one given overrides the --config file (or the defaults of --feature).
struct FeatureFlags {
    std::string feature;
    std::optional<int> sample_rate, n_fft, hop_length, win_length, n_mels, n_bins, bins_per_octave, n_mfcc;
    std::optional<double> fmin, fmax, power, top_db, amin, log1p_c, lifter, filter_scale;
    std::optional<std::string> window, pad_mode, mel_norm, log, ref;
    std::optional<bool> center, htk;
    bool no_top_db = false;
};

// Declares the flags in an option group of `cmd`; `kinds` are the accepted --feature values.
void add_feature_flags(CLI::App* cmd, FeatureFlags& flags, const std::vector<std::string>& kinds);

// The resolved config: --config's file (or defaults_for(--feature), or logmel), then each flag given.
// Throws mtag::UsageError when --feature contradicts the config file, mtag::Error for invalid values.
dsp::FeatureConfig build_feature_config(const std::string& config_path, const FeatureFlags& flags);

}  // namespace mtag::app
