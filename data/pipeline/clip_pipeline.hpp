#pragma once
// The per-example work of the batch loader: decode a clip (only the window needed when its duration is
// known), crop, augment the waveform, compute the front end, and normalise. Builds a SampleFn.
//
// Training takes a random crop of `frames` frames per example (data/chunking.hpp). Evaluation uses
// BatchLoaderOptions::repeats = K with shuffle off: example `repeat` of a clip is its repeat-th
// evaluation chunk, so K consecutive examples cover the clip and their scores are averaged
// (average_chunk_scores). A clip with fewer chunks than K repeats its chunks cyclically.
// Clips shorter than one chunk are zero-padded at the end in the waveform domain, before the front end,
// so the padding is silence to the model (a log-mel floor), never a block of 0 dB.
// Decoding reads only the chunk's window when the clip's duration is known (DatasetOptions::
// read_durations, or a manifest `duration` column); otherwise the whole clip is decoded for every example,
// which for K evaluation chunks means K decodes: give durations or a cache for evaluation.
// Without augmentation a FeatureCache may hold the features of whole clips, and crops are then read
// from the memory-mapped .npy instead of decoding audio. With augmentation a WaveformCache may hold the
// decoded clips (mono, resampled), so that only crop -> augment -> front end run per example after the
// first epoch; with it the whole clip is always decoded (never just a window), so an example is the
// same whether its clip was cached or not.
// Per example, the window, the augmented audio and the features live in per-thread buffers that are
// reused, so steady-state examples allocate only inside the augmentation transforms and the decoder.
#include "data/pipeline/batch_loader.hpp"
#include "data/pipeline/chunking.hpp"
#include "data/pipeline/feature_cache.hpp"
#include "data/pipeline/normalization.hpp"
#include "data/pipeline/waveform_cache.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/augment_pipeline.hpp"
#include "dsp/feature_config.hpp"

#include <functional>
#include <span>

namespace mtag::data {

// A front end: waveform at FeatureConfig::sample_rate -> [bins, frames]. Must be thread-safe.
using FrontEnd = std::function<void(std::span<const float> audio, dsp::FloatMatrix& out)>;

// The front end a FeatureConfig describes, through dsp::FeatureExtractor (one extractor per concurrent
// caller, pooled). Throws mtag::Error for an invalid config.
FrontEnd make_front_end(const dsp::FeatureConfig& config);

struct ClipPipelineOptions {
    dsp::FeatureConfig features{};                  // sample rate, hop and bins of the front end
    ChunkOptions chunking{};                        // length = model input frames; eval layout
    bool train = true;                              // random crops (true) or evaluation chunks (false)
    const dsp::AugmentPipeline* augment = nullptr;  // waveform augmentation, training only; not owned
    FeatureCache* cache = nullptr;                  // whole-clip features; ignored when augmenting
    WaveformCache* waveforms = nullptr;             // decoded clips; used when `cache` is not
    const Normalization* normalization = nullptr;   // applied to every input; not owned
    dsp::ResampleQuality resample_quality = dsp::default_resample_quality;

    // Throws mtag::Error for a zero chunk length, an invalid feature config, or a waveform cache whose
    // rate or resample quality differs from the features' and resample_quality.
    void validate() const;
};

// Number of samples whose front end yields exactly `frames` frames.
std::size_t samples_for_frames(const dsp::FeatureConfig& config, std::size_t frames);

// The SampleFn of the batch loader for these options and front end.
SampleFn make_clip_sample_fn(const ClipPipelineOptions& options, FrontEnd front_end);

// Raw-audio examples for sample-level models: [1, chunking.length] per example from the waveform cache,
// a random crop in training (then augmented at `sample_rate`), the repeat-th evaluation chunk otherwise;
// normalised when `normalization` is given. `augment`, `normalization` and `waveforms` are not owned.
SampleFn make_waveform_sample_fn(int sample_rate, ChunkOptions chunking, bool train, const dsp::AugmentPipeline* augment,
                                 const Normalization* normalization, WaveformCache* waveforms);

}  // namespace mtag::data
