#pragma once
// FeatureExtractor: turns mono samples at config.sample_rate into the [bins, frames] feature a
// FeatureConfig describes, either all at once or streamed in blocks of any size (long files), with the
// same result both ways. Built once per config; one extractor per thread (it owns reusable buffers).
#include "dsp/feature_config.hpp"
#include "dsp/matrix.hpp"
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <utility>
#include <span>
#include <vector>

namespace mtag::dsp {

class FeatureExtractor {
  public:
    // Resolves and validates the config and builds the transforms (FFT plans, filterbanks, kernels).
    explicit FeatureExtractor(const FeatureConfig& config);
    ~FeatureExtractor();
    FeatureExtractor(FeatureExtractor&&) noexcept;
    FeatureExtractor& operator=(FeatureExtractor&&) noexcept;

    const FeatureConfig& config() const { return m_config; }  // resolved
    int bins() const { return m_config.bins(); }

    // The feature of a whole signal, [bins, frames]. Throws mtag::Error when no frame fits (center=false
    // and fewer than n_fft samples, or an empty signal).
    void compute(std::span<const float> samples, FloatMatrix& out);

    // Decodes `path` in blocks (mono, resampled to config.sample_rate) and streams it through the
    // transform, so memory is the feature plus a few blocks; throws mtag::Error naming the file.
    void compute_file(const std::filesystem::path& path, FloatMatrix& out,
                      ResampleQuality quality = default_resample_quality, Mp3Decode mp3_decode = default_mp3_decode);

    // Streaming interface: begin(), push() blocks in order, finish() writes the whole feature. Frames are
    // transformed as soon as their samples have arrived; the log compression (whose top_db and ref=max
    // look at the whole input) runs in finish().
    void begin();
    void push(std::span<const float> samples);
    void finish(FloatMatrix& out);

    // Streaming without assembling the feature (dsp/feature_file.hpp writes a long file's feature this way):
    // begin(sink), push() blocks, finish_frames(). Each chunk of computed frames, [bins, n] before the log
    // compression and the MFCC DCT, goes to `sink` in order instead of being kept. finish_frames() throws
    // like finish() when no frame fits.
    using ChunkSink = std::function<void(FloatMatrix& chunk)>;
    void begin(ChunkSink sink);
    void finish_frames();

    // Input samples the streaming state holds now (bounded by the transform's span plus one block).
    std::size_t buffered_samples() const;

    // Frame-range interface, for computing one signal's feature in independent segments (mtag extract spreads
    // a long file's segments over threads). STFT-based kinds only (not cqt, whose frames need long context).
    bool has_frame_ranges() const;
    // Frames a signal of `length` samples has.
    std::int64_t frame_count(std::int64_t length) const;
    // The samples [begin, end) that frames [first, first + count) of a signal of `length` samples read.
    std::pair<std::int64_t, std::int64_t> samples_for_frames(std::int64_t first, std::int64_t count,
                                                             std::int64_t length) const;
    // Frames [first, first + count) of the feature before log compression, [bins, count], from `samples`, the
    // signal's samples [offset, offset + samples.size()) of a signal of `length` samples (-1: longer than any
    // frame asked). Each frame's values are those compute() gives for the same samples.
    void compute_frames(std::span<const float> samples, std::int64_t offset, std::int64_t length, std::int64_t first,
                        std::int64_t count, FloatMatrix& out);
    // The log compression (and the MFCC DCT) of an assembled pre-compression feature: what compute() and
    // finish() apply to the whole feature.
    // `linear` is consumed (compressed in place, then moved into `out` unless the kind is mfcc).
    void compress(FloatMatrix& linear, FloatMatrix& out);

  private:
    // Log compression over the whole feature, then the MFCC DCT (target -> out) for mfcc.
    void postprocess(FloatMatrix& target, FloatMatrix& out);

    struct Impl;
    FeatureConfig m_config;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace mtag::dsp
