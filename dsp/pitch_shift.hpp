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
struct PitchShiftOptions {
    TimeStretchOptions stretch;  // stretch.sample_rate is overwritten by pitch_shift's sample_rate
    ResampleQuality resample_quality = ResampleQuality::medium;
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
