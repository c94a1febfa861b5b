#pragma once
// A long file's feature computed in independent segments, so that `mtag extract` can spread one file over
// several threads when there are fewer files than threads. The plan depends only on the file and the config
// (never on a thread count): segment k holds output frames [k * kSegmentFrames, (k + 1) * kSegmentFrames),
// decodes its own span of the file (seeking frame-accurately, with a margin for the resampler's filter and a
// start where the native and output sample grids meet) and computes its frames through the extractor's
// frame-range interface; the parts are joined and log-compressed once. One thread or many, the feature is
// the same bit for bit; against a whole-file stream it differs only where resampling rounds differently
// inside the margins (float rounding; tests/data/extract/test_segments.cpp).
#include "dsp/feature_extractor.hpp"
#include "dsp/matrix.hpp"
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace mtag::data {

// Output frames per segment: about 65 s of 16 kHz audio at hop 256, so a segment's margins (0.5 s each side)
// cost ~1.5% more decoding.
inline constexpr std::int64_t kSegmentFrames = 4096;
// Segments are joined in memory, so only a file whose feature is at most this size is segmented; a longer one
// streams to disk on one worker (extract's bounded-memory guarantee: 23, a 10-hour file in ~30 MB).
inline constexpr std::uint64_t kSegmentedFeatureBytes = 16u << 20;

struct SegmentPlan {
    std::int64_t native_frames = 0;  // exact frame count of the file
    int native_rate = 0;
    int sample_rate = 0;             // the feature's
    std::int64_t length = 0;         // samples at sample_rate
    std::int64_t frames = 0;         // feature frames
    std::size_t segments() const {
        return static_cast<std::size_t>((frames + kSegmentFrames - 1) / kSegmentFrames);
    }
};

// The plan for `path`, or nullopt when the file is computed as one stream: fewer than two segments of frames,
// a feature without a frame-range interface (cqt), or a format whose frame count or seeking is not exact
// (only WAV, AIFF, FLAC and MP3 are segmented). Throws mtag::Error for an unreadable file.
std::optional<SegmentPlan> plan_segments(const std::filesystem::path& path, const dsp::FeatureExtractor& extractor);

// Segment k's frames before log compression, [bins, frames of the segment].
void compute_segment(const std::filesystem::path& path, const SegmentPlan& plan, std::size_t k,
                     dsp::FeatureExtractor& extractor, dsp::ResampleQuality quality, dsp::Mp3Decode mp3_decode,
                     dsp::FloatMatrix& out);

// Joins the segments' frames in order and applies the log compression: the file's feature.
void join_segments(std::vector<dsp::FloatMatrix>& parts, dsp::FeatureExtractor& extractor, dsp::FloatMatrix& out);

}  // namespace mtag::data
