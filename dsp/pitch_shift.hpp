#pragma once
// Pitch shifting by time stretch + resampling (librosa.effects.pitch_shift's method): stretch by
// rate = 2^(-semitones / 12) with the phase vocoder, then resample the stretched signal by the same
// factor (dsp/resample: libsoxr or libsamplerate) so it has exactly the input's length and sample rate.
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
// Why soxr_hq by default: the resampler was 75% of pitch_shift's time with libsamplerate's `medium`, which is
// why `sinc_fastest` was the default before libsoxr. scripts/resample_quality.py measures every converter
// against the kernel torchaudio.functional.pitch_shift resamples with (torchaudio.functional.resample's
// default: sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99) at the ratios of shifts of +-2 and +-4
// semitones, in fractions of the Nyquist frequency (speed: audio s per CPU s at 16 kHz, +4 semitones):
//                        flat within 0.1 dB to   -3 dB at   aliases of tones above Nyquist  in-band error  speed
//   torchaudio           0.75 (+-0.03 dB)        0.93       -10 dB                          -29 .. -73 dB
//   libsoxr soxr_hq      0.95                    0.95       -135 dB                         -132 dB        ~5300
//   libsamplerate fastest 0.75                   0.83       -100 dB                         -98 dB         ~690
//   libsamplerate medium  0.87                   0.91       -122 dB                         -120 dB        ~320
// So soxr_hq is both the fastest of these and the best: flat to 0.95 of Nyquist, ~35 dB less aliasing than
// sinc_fastest and ~125 dB less than torchaudio. (soxr_lq is ~20% faster still at sinc_fastest's quality;
// the resampler is a few percent of pitch_shift's time after the switch, not worth the top of the band.)
inline constexpr ResampleQuality default_pitch_shift_quality = ResampleQuality::soxr_hq;

struct PitchShiftOptions {
    TimeStretchOptions stretch;  // stretch.sample_rate is overwritten by pitch_shift's sample_rate
    ResampleQuality resample_quality = default_pitch_shift_quality;
};

// Shifts x by `semitones` (in [-24, 24]) keeping its length exactly. A shift of 0 returns x unchanged.
// Throws mtag::Error for a shift outside the range or a non-positive sample rate.
std::vector<float> pitch_shift(std::span<const float> x, int sample_rate, double semitones,
                               const PitchShiftOptions& options = {});

// Resamples a mono signal by an arbitrary ratio (output rate / input rate) to exactly `length` samples
// (time-aligned: the converter's delay is flushed; the tail is padded or cut).
std::vector<float> resample_to_length(std::span<const float> x, double ratio, std::size_t length,
                                      ResampleQuality quality = default_resample_quality);

}  // namespace mtag::dsp
