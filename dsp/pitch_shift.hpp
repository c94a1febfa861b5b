#pragma once
// Pitch shifting by time stretch + resampling (librosa.effects.pitch_shift's method): stretch by
// rate = 2^(-semitones / 12) with the phase vocoder, then resample the stretched signal by the same
// factor with libsamplerate so it has exactly the input's length and sample rate.
#include "dsp/phase_vocoder.hpp"
#include "dsp/resample.hpp"

#include <span>
#include <vector>

namespace mtag::dsp {

// Allowed shifts, in semitones (fractions allowed).
constexpr double max_pitch_shift_semitones = 24.0;

// Options of pitch_shift: the time stretcher's (n_fft, hop, phase locking; sample_rate sets the default
// n_fft) and the resampler's quality.
//
// Why `fastest` by default: the resampler was 75% of pitch_shift's time with `medium`. Measured against the
// kernel torchaudio.functional.pitch_shift resamples with (torchaudio.functional.resample's default:
// sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99) by scripts/resample_quality.py, at the ratios of
// shifts of +-2 and +-4 semitones, in fractions of the Nyquist frequency:
//                        flat within 0.1 dB to   -3 dB at   aliases of tones above Nyquist   in-band error
//   torchaudio           0.75 (+-0.03 dB)        0.93       -10 dB                           -29 .. -73 dB
//   libsamplerate fastest 0.72 (+-0.03 dB)       0.81       -100 dB                          -98 dB
//   libsamplerate medium  0.87                   0.91       -122 dB                          -120 dB
// So `fastest` has the same flat passband and ~90 dB less aliasing than torchaudio's kernel, but rolls off
// earlier: it attenuates the top of the band (-2.8 dB at 0.8, -20 dB at 0.9 of Nyquist) where torchaudio keeps
// more (-0.5 and -2.4 dB) while folding that region's aliases back at -10 dB. Choose `medium` (or `best`) when
// the top 10-20% of the band matters (e.g. a front end with fmax at Nyquist and models sensitive to it).
struct PitchShiftOptions {
    TimeStretchOptions stretch;  // stretch.sample_rate is overwritten by pitch_shift's sample_rate
    ResampleQuality resample_quality = ResampleQuality::fastest;
};

// Shifts x by `semitones` (in [-24, 24]) keeping its length exactly. A shift of 0 returns x unchanged.
// Throws mtag::Error for a shift outside the range or a non-positive sample rate.
std::vector<float> pitch_shift(std::span<const float> x, int sample_rate, double semitones,
                               const PitchShiftOptions& options = {});

// Resamples a mono signal by an arbitrary ratio (output rate / input rate) to exactly `length` samples
// with libsamplerate (time-aligned: the converter's delay is flushed; the tail is padded or cut).
std::vector<float> resample_to_length(std::span<const float> x, double ratio, std::size_t length,
                                      ResampleQuality quality = ResampleQuality::medium);

}  // namespace mtag::dsp
