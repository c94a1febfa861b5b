#pragma once
// Mel-frequency cepstral coefficients from a dB mel spectrogram (ref: librosa.feature.mfcc): an
// orthonormal DCT-II along the mel axis (scipy.fftpack.dct(type=2, norm='ortho')), first n_mfcc
// coefficients, optional sinusoidal liftering.
//
// Input is the LOG (dB) mel spectrogram [n_mels, frames], i.e. power_to_db(MelSpectrogram) as librosa
// computes it (ref=1, amin=1e-10, top_db=80); output is [n_mfcc, frames].
#include "dsp/matrix.hpp"

namespace mtag::dsp {

// ref: librosa.feature.mfcc parameters.
struct MfccOptions {
    int n_mfcc = 20;     // coefficients kept (<= n_mels)
    float lifter = 0.0f; // 0 disables; > 0 scales coefficient k by 1 + (lifter/2) sin(pi (k+1) / lifter)
};

// The [n_out, n_in] orthonormal DCT-II matrix: D[k, n] = sqrt((k == 0 ? 1 : 2) / n_in) cos(pi k (2n+1) / (2 n_in)).
FloatMatrix dct_ii_ortho(int n_out, int n_in);

// MFCC plan for a given number of mel bands: the DCT rows (with liftering folded in) built once.
class Mfcc {
public:
    // Throws mtag::Error unless 1 <= n_mfcc <= n_mels and lifter >= 0.
    Mfcc(int n_mels, const MfccOptions& options = {});

    int n_mels() const { return m_n_mels; }
    int n_mfcc() const { return m_options.n_mfcc; }
    // The matrix applied: DCT-II rows times the lifter weights, [n_mfcc, n_mels].
    const FloatMatrix& matrix() const { return m_matrix; }

    // log_mel: [n_mels, frames] (dB) -> out: [n_mfcc, frames].
    void compute(const FloatMatrix& log_mel, FloatMatrix& out) const;

private:
    int m_n_mels;
    MfccOptions m_options;
    FloatMatrix m_matrix;
};

}  // namespace mtag::dsp
