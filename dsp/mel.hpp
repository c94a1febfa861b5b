#pragma once
// Mel scale, librosa's mel filterbank and a fused mel spectrogram (STFT -> power -> sparse mel product).
//
// Conventions a reader could guess wrong:
// - The default scale is Slaney's (librosa's default, htk=false): linear below 1 kHz (3 mels per
//   200 Hz), logarithmic above. torchaudio's default is HTK (2595 log10(1 + f/700)) with norm=None;
//   set htk=true and norm=none to match torchaudio.transforms.MelSpectrogram.
// - Filters are applied to the POWER spectrogram by default (power = 2, librosa.feature.melspectrogram).
// - norm=slaney divides each triangle by its width in Hz (2 / (f[m+2] - f[m])): constant energy per band.
// - The filterbank is [n_mels, 1 + n_fft/2]; the mel spectrogram is [n_mels, frames].
#include "dsp/matrix.hpp"
#include "dsp/stft.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::dsp {

// Band normalisation of the filterbank.
enum class MelNorm {
    none,    // peak 1 per triangle (HTK / torchaudio default)
    slaney,  // area normalisation: 2 / bandwidth in Hz (librosa default)
};

// Parses "slaney" and "none" / "" ; throws mtag::Error otherwise.
MelNorm parse_mel_norm(std::string_view name);
// "slaney" or "none".
std::string mel_norm_name(MelNorm norm);

// ref: librosa.filters.mel parameters.
struct MelOptions {
    double sample_rate = 22050.0;  // Hz
    int n_fft = 0;                 // FFT size; 0 => taken from the STFT (MelSpectrogram), required otherwise
    int n_mels = 128;              // number of bands
    double fmin = 0.0;             // lowest edge, Hz
    double fmax = 0.0;             // highest edge, Hz; 0 => sample_rate / 2
    bool htk = false;              // HTK formula instead of Slaney's
    MelNorm norm = MelNorm::slaney;
};

// Hz -> mel (ref: librosa.hz_to_mel). htk=false: f / (200/3) below 1 kHz, 15 + 27 ln(f/1000) / ln(6.4) above.
double hz_to_mel(double hz, bool htk = false);
// mel -> Hz, the inverse of hz_to_mel (ref: librosa.mel_to_hz).
double mel_to_hz(double mel, bool htk = false);
// n frequencies (Hz) equally spaced on the mel scale from fmin to fmax inclusive (ref: librosa.mel_frequencies).
std::vector<double> mel_frequencies(int n, double fmin, double fmax, bool htk = false);

// The mel filterbank, stored sparsely: each band keeps only its contiguous run of nonzero weights, so
// applying it costs about 2 multiply-adds per FFT bin instead of n_mels.
class MelFilterbank {
public:
    // Builds librosa's triangles in double precision and rounds the weights to float (as librosa's float32
    // default). Validates the options (fmax <= Nyquist, fmin < fmax, n_mels >= 1, n_fft >= 2) and warns
    // once per process on stderr when a band gets no FFT bin (n_mels too large for n_fft).
    explicit MelFilterbank(const MelOptions& options);

    const MelOptions& options() const { return m_options; }  // fmax resolved
    int n_mels() const { return m_options.n_mels; }
    int bins() const { return m_bins; }                      // 1 + n_fft/2
    int empty_bands() const { return m_empty_bands; }

    // First FFT bin and weights of band m (empty span for an empty band).
    int band_start(int m) const { return m_start[static_cast<std::size_t>(m)]; }
    std::span<const float> band_weights(int m) const;

    // The dense [n_mels, bins] matrix, equal to librosa.filters.mel(...) in float32.
    FloatMatrix dense() const;

    // One frame: mel[m] = sum_k W[m, k] * spectrum[k]; spectrum has bins() values, mel has n_mels().
    void apply(const float* spectrum, float* mel) const;
    // A spectrogram [bins, frames] -> [n_mels, frames].
    void apply(const FloatMatrix& spectrogram, FloatMatrix& out) const;

private:
    MelOptions m_options;
    int m_bins = 0;
    int m_empty_bands = 0;
    std::vector<int> m_start;          // first nonzero bin of each band
    std::vector<int> m_count;          // number of weights of each band
    std::vector<std::size_t> m_offset; // where each band's weights start in m_weights
    std::vector<float> m_weights;
};

// The filterbank as a dense [n_mels, 1 + n_fft/2] matrix (ref: librosa.filters.mel).
FloatMatrix mel_filterbank(const MelOptions& options);

// STFT + |X|^power + mel filterbank in one pass per frame (ref: librosa.feature.melspectrogram). Built once,
// const and thread-safe; the spectrogram is never stored, and nothing is allocated per frame.
class MelSpectrogram {
public:
    // power: 2 for a power mel spectrogram (default, librosa and torchaudio), 1 for magnitude.
    // mel.n_fft must be 0 or equal to stft.n_fft.
    MelSpectrogram(const StftOptions& stft, const MelOptions& mel, float power = 2.0f);

    const Stft& stft() const { return m_stft; }
    const MelFilterbank& filterbank() const { return m_filterbank; }
    int n_mels() const { return m_filterbank.n_mels(); }
    float power() const { return m_power; }
    std::int64_t frame_count(std::int64_t length) const { return m_stft.frame_count(length); }

    // The mel spectrogram of x, shaped [n_mels, frames]. Throws mtag::Error when no frame fits.
    void compute(std::span<const float> x, FloatMatrix& out) const;
    // Frames [first_frame, first_frame + n_frames) from a block covering
    // stft().samples_for_frames(first_frame, n_frames, block.length); shaped [n_mels, n_frames] and equal
    // to the same columns of compute() on the whole signal (see Stft::compute_frames for streaming).
    void compute_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                        FloatMatrix& out) const;

private:
    Stft m_stft;
    MelFilterbank m_filterbank;
    float m_power;
};

}  // namespace mtag::dsp
