#pragma once
// A long audio file's feature written to .npy in bounded memory (mtag extract).
//
// FeatureExtractor::compute_file holds the whole feature: a 10-hour file's log-mel is 0.8 GB of floats
// (128 bins, 22050 Hz, hop 512), and memory grew with the file's length. Here the frames go to a scratch
// file beside the output as they are computed (FeatureExtractor::begin(sink)); the log compression, whose
// ref=max and top_db look at the whole feature (librosa applies them to the full array), then runs over
// them in a second pass that knows the maxima, and the frames land in the .npy's [bins, frames] layout
// with positioned writes. Memory: the decoder's blocks, the transform's window and one chunk of frames.
// The bytes are those of save_npy(npy, compute_file(...)): the same element-wise operations in the same
// order, and maxima are exact whatever the order.
#include "dsp/feature_extractor.hpp"
#include "dsp/resample.hpp"

#include <array>
#include <cstddef>
#include <filesystem>

namespace mtag::dsp {

// Decodes `audio` (streamed, mono, resampled to the extractor's rate), computes its feature and writes it
// to `npy` (float32 [bins, frames]) through a temporary name renamed once complete; the scratch file is
// removed whatever happens. Returns the shape written. Throws mtag::Error naming the audio file (decoding,
// no frame fits) or the output (write failed: disk full?).
std::array<std::size_t, 2> write_feature_npy(FeatureExtractor& extractor, const std::filesystem::path& audio,
                                             const std::filesystem::path& npy,
                                             ResampleQuality quality = default_resample_quality,
                                             Mp3Decode mp3_decode = default_mp3_decode);

}  // namespace mtag::dsp
