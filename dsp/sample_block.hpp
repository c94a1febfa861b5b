#pragma once
// The two passes every decoder's output goes through before resampling: the mono mix and the NaN/Inf scan.
// Both are written so the compiler vectorises them (the scan was a branch per sample, 3-5% of an extract).
#include <cstddef>
#include <span>

namespace mtag::dsp {

// Averages `channels` interleaved channels into `mono` (librosa.to_mono): mono[i] = (sum over c, in channel
// order) * (1 / channels), the same bits for any block size. mono.size() must be interleaved.size() / channels.
void mix_to_mono(std::span<const float> interleaved, int channels, std::span<float> mono);

// Index of the first NaN or infinite value in `values`, or values.size() when every value is finite.
std::size_t first_non_finite(std::span<const float> values);

}  // namespace mtag::dsp
