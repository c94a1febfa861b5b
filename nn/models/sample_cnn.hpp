#pragma once
// Sample-level CNNs on raw waveforms.
//
// sample_cnn -- Lee, Park, Kim & Nam 2017, "Sample-level deep convolutional neural networks for music
//   auto-tagging using raw waveforms" (SMC), the 3^9 model, layer for layer as the PyTorch reference
//   of Won et al. 2020 (sota-music-tagging-models model.py SampleCNN / modules.py Conv_1d):
//   input 59049 samples; layer1 = conv 128 k3 stride 3 + BN + ReLU; layer2..layer10 = conv k3
//   (padding 1) + BN + ReLU + max-pool 3 with 128, 128, 256 x6, 512 channels; layer11 = conv 512 k1 +
//   BN + ReLU; dropout 0.5; dense 512 -> n_tags. 1,869,874 parameters for 50 tags.
//   Front end: {"kind": "waveform", "sample_rate": 22050} -- the authors resample MTAT to 22050 Hz
//   (jongpillee/sampleCNN extract_mp3s_to_npy.py: fs = 22050; the paper's 59049 samples = 2678 ms);
//   Won et al.'s re-implementation feeds 16 kHz instead (59049 samples = 3.69 s): set
//   front_end.sample_rate in the app config for that. Not a dsp FeatureConfig kind: the app feeds
//   the resampled mono samples (N, 59049) directly.
//   Optimizer (Lee et al.'s code): SGD lr 0.01, momentum 0.9, Nesterov, per-step decay 1e-6, batch 23;
//   lr x 0.2 when the validation loss stops improving (patience 3), down to 1.6e-5.
//
// sample_cnn_se -- Kim, Lee & Nam 2018, "Sample-level CNN architectures for music auto-tagging using raw
//   waveforms" (ICASSP), the SE + multi-level model as in the authors' code (github.com/tae-jun/resemul
//   model.py, block_type 'se', multi=True): layer1 = conv 128 k3 s3 + BN + ReLU; nine SE blocks
//   layer2..layer10 = conv k3 + BN + ReLU + max-pool 3, then squeeze-and-excitation on the pooled map
//   with an AMPLIFYING ratio 16 (fc1: C -> 16 C, ReLU; fc2: 16 C -> C, sigmoid); multi-level feature
//   aggregation: global max of the last three blocks' outputs concatenated (256 + 256 + 512 = 1024);
//   dense1 1024 -> 1024, BN, ReLU, dropout 0.5, dense2 -> n_tags. No final k1 conv. Same front end.
//   (The sota-music-tagging-models "SampleCNNSE" is a different, residual ReSE-2 variant with ratio 1.)
//   Optimizer (resemul train.py): SGD lr 0.01, momentum 0.9, Nesterov, per-step decay 1e-6, batch 23,
//   dropout 0.5, no weight decay; lr x 0.2 after 2 epochs without validation-loss improvement, 5 stages.
#include "nn/init.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

struct SampleCnnOptions {
    std::int64_t input_samples = 59049;
    std::int64_t first_channels = 128;  // layer1: strided conv
    std::int64_t first_stride = 3;      // its kernel = stride (3)
    std::vector<std::int64_t> channels{128, 128, 256, 256, 256, 256, 256, 256, 512};  // layer2..
    std::int64_t kernel_size = 3;
    std::int64_t pool = 3;
    std::int64_t final_channels = 512;  // the 1x1 conv block after the last pooled block (0 = none)
    std::string block = "basic";        // basic | se
    std::int64_t se_ratio = 16;         // SE hidden width = se_ratio * C (Kim et al.'s amplifying ratio)
    std::int64_t multi_level = 0;  // aggregate global max of the last k blocks (0 = global max of the last)
    std::int64_t dense = 0;        // hidden dense + BN + ReLU before the output (0 = none)
    double dropout = 0.5;
    ActivationSpec activation{};          // relu, in every conv block and the hidden dense layer
    std::vector<double> block_dropout{};  // per block of `channels` (layer2..), after its pool (empty = none)
    init::InitSpec init{.scheme = init::Scheme::he_uniform};  // both papers' Keras code initialise convs he_uniform

    nlohmann::json to_json() const;
    static SampleCnnOptions from_json(const nlohmann::json& json, const SampleCnnOptions& defaults);
    void validate() const;
};

SampleCnnOptions sample_cnn_options();
SampleCnnOptions sample_cnn_se_options();
PresetInfo sample_cnn_info();
PresetInfo sample_cnn_se_info();
std::shared_ptr<TaggingModel> make_sample_cnn(const PresetInfo& info, const SampleCnnOptions& options,
                                              std::int64_t n_tags);

}  // namespace mtag::nn::models
