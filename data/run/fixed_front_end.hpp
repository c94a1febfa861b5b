#pragma once
// Front ends that a model carries as fixed tensors, computed for a new model. choi2017_compact's DftMelgram
// (nn/layers/dft_melgram.hpp) holds kapre's DFT kernels and mel matrix as buffers; nn/ builds them zero
// because filter banks are dsp/'s, and a model trained from that would see a constant input. This computes
// what kapre 0.0.3's Melspectrogram computed when the upstream model was built:
//   dft_real[n][k] = cos(2 pi n k / n_dft) * w[n],  dft_imag[n][k] = sin(2 pi n k / n_dft) * w[n]
//     with w the periodic Hann window of n_dft samples (scipy.signal.get_window('hann', n_dft), as kapre);
//   mel = librosa.filters.mel(sr, n_dft, n_mels) transposed: Slaney scale, area norm, 0 Hz to Nyquist.
// Checked against the published compact_cnn weights (tests/data/run/test_fixed_front_end.cpp).
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>

namespace mtag::data {

// Fills every DftMelgram of `model` for audio at `sample_rate` Hz; returns how many it filled.
int fill_fixed_front_end(nn::Module& model, int sample_rate);

// The sample rate of the preset's own front end (its front_end()["sample_rate"]).
int preset_sample_rate(const nn::models::TaggingModel& model);

// A new model, ready to train or save: nn::models::build_model, then its fixed front end filled for
// `sample_rate` (0: the preset's own rate). Every place that builds a model that is not loaded or imported
// calls this instead of build_model.
std::shared_ptr<nn::models::TaggingModel> build_new_model(const nlohmann::json& spec, std::int64_t n_tags,
                                                          int sample_rate = 0);

}  // namespace mtag::data
