#pragma once
// The normalisation statistics of a training run, from the training split only (never valid or test):
// every training clip is decoded first, on all threads (which also fills the waveform cache for the first
// epoch), clips that cannot be decoded are left out with a warning, then the statistics are computed over
// the front end's output (or the raw waveform for sample-level models).
#include "data/pipeline/clip_pipeline.hpp"
#include "data/pipeline/normalization.hpp"
#include "data/pipeline/waveform_cache.hpp"
#include "data/sets/dataset.hpp"

#include <vector>

namespace mtag::data {

// `front_end` is empty for waveform models. Throws mtag::Error when no training clip can be decoded.
Normalization fit_training_statistics(const Dataset& dataset, const std::vector<std::size_t>& train_clips,
                                      WaveformCache& waveforms, const FrontEnd& front_end,
                                      const NormalizationOptions& options,
                                      int threads, bool quiet);

}  // namespace mtag::data
