#pragma once
// FeatureConfig: every parameter of a spectral front end in one plain struct, serialisable to JSON and
// hashable, used verbatim by `mtag extract`, `train` and `tag` so a model always sees the features it
// was trained on. Parameter names follow librosa (n_fft, hop_length, n_mels, fmin, top_db, ...).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mtag::dsp {

// What a feature is. Every kind returns [bins, frames] (librosa's layout):
//   stft   |STFT|^power, 1 + n_fft/2 bins
//   mel    mel spectrogram of |STFT|^power, n_mels bins (no log unless `log` says so)
//   logmel mel spectrogram then log compression (db by default), n_mels bins
//   cqt    constant-Q magnitude, n_bins bins
//   mfcc   DCT-II (ortho) of the dB mel spectrogram, n_mfcc bins
enum class FeatureKind { stft, mel, logmel, cqt, mfcc };

// How magnitudes are compressed after the transform.
//   db     10*log10 of power (power_to_db) or 20*log10 of magnitude (amplitude_to_db), with ref/amin/top_db
//   log1p  log(1 + C*x) (Dieleman & Schrauwen 2014, musicnn), C = log1p_c
//   none   the linear values
enum class LogCompression { db, log1p, none };

// The reference level of dB compression: a number (librosa ref=1.0) or the spectrogram's own maximum
// (librosa ref=np.max).
struct DbRef {
    enum class Kind { value, max };
    Kind kind = Kind::value;
    double value = 1.0;  // used when kind == value
    static DbRef max() { return {Kind::max, 0.0}; }
    bool is_max() const { return kind == Kind::max; }
    bool operator==(const DbRef&) const = default;
};
// "max" or a number ("1.0": configs and cards written before ref was typed held a numeric string);
// throws mtag::Error naming `where` otherwise.
DbRef parse_db_ref(const std::string& text, const std::string& where = "feature config ref");

std::string to_string(FeatureKind kind);
std::string to_string(LogCompression log);
// Parse the names above; throw mtag::Error listing the valid names.
FeatureKind parse_feature_kind(const std::string& name);
LogCompression parse_log_compression(const std::string& name);

// The defaults are a compact music-tagging log-mel (as in musicnn / the MTAT literature):
// 16 kHz, n_fft 512 (32 ms), hop 256 (16 ms), 96 Slaney mel bands 0..8 kHz on the power spectrum,
// power_to_db with ref 1.0, amin 1e-10, top_db 80 (librosa's defaults). Fields with a value of 0
// (or a negative fmin) are "auto" and resolved by resolved(), as librosa resolves None.
struct FeatureConfig {
    FeatureKind kind = FeatureKind::logmel;
    int sample_rate = 16000;  // input samples are resampled to this rate (Hz)

    // STFT (stft, mel, logmel, mfcc); hop_length and window and centring are shared with cqt.
    int n_fft = 512;
    int hop_length = 256;               // 0 = win_length / 4 (librosa's default)
    int win_length = 0;                 // 0 = n_fft
    std::string window = "hann";        // hann (periodic) | hamming | blackman | rectangular
    bool center = true;                 // pad n_fft/2 on both sides so frame t is centred at t*hop_length
    std::string pad_mode = "constant";  // constant (librosa >= 0.9) | reflect (torchaudio)
    double power = 2.0;                 // exponent of |STFT|: 1 magnitude, 2 power

    // Mel filterbank (mel, logmel, mfcc).
    int n_mels = 96;
    double fmin = -1.0;               // < 0 = auto: 0 Hz for mel, C1 = 32.703 Hz for cqt
    double fmax = 0.0;                // 0 = sample_rate / 2
    bool htk = false;                 // HTK mel scale instead of Slaney's
    std::string mel_norm = "slaney";  // slaney (area normalisation) | none

    // Constant-Q (cqt); fmin above is its lowest bin.
    int n_bins = 84;
    int bins_per_octave = 12;
    double filter_scale = 1.0;
    double cqt_norm = 1.0;   // L-norm of each kernel (librosa `norm`)
    double sparsity = 0.01;  // fraction of each kernel's energy that may be dropped
    bool cqt_scale = true;   // divide by sqrt(filter length): white noise gives about 1 per bin

    // MFCC.
    int n_mfcc = 20;
    double lifter = 0.0;  // 0 = no liftering; else 1 + (lifter/2) sin(pi (n+1) / lifter)

    // Log compression. For mfcc the dB conversion of the mel spectrogram is part of the feature.
    LogCompression log = LogCompression::db;
    DbRef ref;                 // a positive number, or max (librosa ref=np.max)
    double amin = 0.0;         // 0 = auto: 1e-10 for power, 1e-5 for magnitude (librosa)
    double top_db = 80.0;      // < 0 disables clipping (librosa top_db=None)
    double log1p_c = 10000.0;  // C in log(1 + C*x)
    // Which dB conversion: "auto" follows the spectrum (power_to_db for power, amplitude_to_db for magnitude);
    // "power" or "amplitude" forces one. Choi et al.'s taggers took 10*log10 of the SQUARED mel power
    // (librosa.logamplitude(S**2)), which is "amplitude" applied to a power spectrogram: 20*log10(S).
    std::string db_input = "auto";

    // The default config for a kind: the struct defaults, with log = none for stft, mel and cqt, and
    // librosa.cqt's sample_rate 22050 and hop_length 512 for cqt.
    static FeatureConfig defaults_for(FeatureKind kind);

    // Every auto field filled in (hop_length, win_length, fmin, fmax, amin), validated.
    FeatureConfig resolved() const;
    // Throws mtag::Error naming the field, the value and the valid range ("fmax 9000 exceeds Nyquist 8000").
    void validate() const;

    // Number of output rows (bins) and frames for `samples` input samples at sample_rate.
    int bins() const;
    std::int64_t frames_for(std::int64_t samples) const;
    // True when the spectrum before compression is a power (|X|^2-like) rather than a magnitude.
    bool is_power() const;
    // True when db compression treats its input as a power (10*log10), false for 20*log10.
    bool db_of_power() const;
    // The reference level of db compression; 0 when ref is max.
    double ref_value() const;

    // The full config (resolved) as JSON with librosa-style keys.
    nlohmann::json to_json() const;
    // Parses a JSON object; missing keys take defaults_for(kind); unknown keys, wrong types and invalid
    // values throw mtag::Error naming the key (and `where`, e.g. the file name).
    static FeatureConfig from_json(const nlohmann::json& json, const std::string& where = "feature config");
    // Loads / saves a JSON file.
    static FeatureConfig load(const std::string& path);
    void save(const std::string& path) const;

    // Only the fields that affect this kind's output, resolved: what the hash covers, so changing
    // n_mels does not change a cqt config's hash.
    nlohmann::json canonical_json() const;
    // 64-bit FNV-1a of canonical_json().dump() (keys sorted) as 16 lowercase hex digits; stable across
    // runs, platforms and mtag versions as long as the key names and defaults do not change.
    std::string hash() const;

    bool operator==(const FeatureConfig& other) const;
};

}  // namespace mtag::dsp
