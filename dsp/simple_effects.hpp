#pragma once
// Sample-wise effects for augmentation: gain in dB, polarity inversion, shift and crop with zero padding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mtag::dsp {

// Multiplies by 10^(gain_db / 20) in place (no clipping: float audio may exceed [-1, 1]).
void apply_gain_db(std::span<float> samples, double gain_db);

// Negates every sample in place (a phase inversion: inaudible alone, changes mixtures).
void invert_polarity(std::span<float> samples);

// Moves the signal `shift` samples later (positive) or earlier (negative), keeping the length: what moves
// past an end is dropped and the gap is filled with zeros (no roll-over).
void shift(std::span<float> samples, std::int64_t shift);

// The `length` samples starting at `start` (which may be negative or run past the end): positions
// outside the signal are zeros, so the result always has `length` samples.
std::vector<float> crop(std::span<const float> samples, std::int64_t start, std::size_t length);

// Fits a signal to `length` samples: truncates or pads zeros at the end (librosa.util.fix_length).
void fix_length(std::vector<float>& samples, std::size_t length);

}  // namespace mtag::dsp
