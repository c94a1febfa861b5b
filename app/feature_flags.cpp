// The feature flags shared by extract and plot spectrogram.
#include "app/feature_flags.hpp"

#include "dsp/error.hpp"

namespace mtag::app {

void add_feature_flags(CLI::App* cmd, FeatureFlags& flags, const std::vector<std::string>& kinds) {
    FeatureFlags& f = flags;
    auto group =
        cmd->add_option_group("features", "Feature parameters (override --config; names as in librosa)");
    std::string names;
    for (const std::string& k : kinds) names += (names.empty() ? "" : " | ") + k;
    group->add_option("--feature", f.feature, names + " (default logmel)")->check(CLI::IsMember(kinds));
    group->add_option("--sample-rate", f.sample_rate,
                      "Resample inputs to this rate (Hz); default 16000 (cqt 22050)");
    group->add_option("--n-fft", f.n_fft, "FFT size (default 512)");
    group->add_option("--hop-length", f.hop_length,
                      "Samples between frames (default 256; cqt 512; 0 = win_length / 4, librosa's None)");
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

}

dsp::FeatureConfig build_feature_config(const std::string& config_path, const FeatureFlags& f) {
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


}  // namespace mtag::app
