#pragma once
// Short-chunk CNNs of Won, Ferraro, Bogdanov & Serra 2020, "Evaluation of CNN-based automatic music
// tagging models" (SMC), layer for layer as the reference code (github.com/minzwon/
// sota-music-tagging-models, training/model.py ShortChunkCNN / ShortChunkCNN_Res, modules.py):
//
// short_chunk_cnn    spec_bn = BatchNorm2d(1) on the dB-mel map; seven blocks layer1..layer7 of
//                    3x3 conv (padding 1, bias) + BN + ReLU + max-pool 2x2 with 128, 128, 256, 256, 256,
//                    256, 512 channels; global max pool; dense1 512 -> 512, bn (BatchNorm1d), ReLU,
//                    dropout 0.5, dense2 512 -> n_tags.
// short_chunk_resnet the same with residual blocks (ResBlock2d: conv_1 3x3 stride 2, bn_1, ReLU, conv_2
//                    3x3, bn_2, plus a 3x3 stride-2 conv_3 + bn_3 shortcut, ReLU after the sum) instead of
//                    conv + pool.
// The map after the blocks is 1 x 1 for the plain CNN and 1 x 2 for the ResNet at the preset size; the
// global max runs over both axes (the reference squeezes the mel axis, which is 1, then maxes time).
//
// Front end (reference: torchaudio MelSpectrogram + AmplitudeToDB): {"kind": "logmel",
//   "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 128, "fmin": 0, "fmax": 8000,
//   "htk": true, "mel_norm": "none", "power": 2, "pad_mode": "reflect", "log": "db", "top_db": -1}.
// Chunk: 3.69 s -- the reference crops 59049 samples, i.e. 231 centred frames (58880 samples suffice).
// Optimizer (reference solver.py): Adam lr 1e-4, weight_decay 1e-4, batch 16, 200 epochs; after 80
//   epochs SGD lr 1e-3 (momentum 0.9, Nesterov, weight_decay 1e-4), then 1e-4 and 1e-5 every 20 epochs.
#include "nn/init.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

struct ShortChunkOptions {
    std::int64_t n_mels = 128;
    std::int64_t input_frames = 231;
    std::vector<std::int64_t> channels{128, 128, 256, 256, 256, 256, 512};
    bool residual = false;     // ResBlock2d with stride `pool` instead of conv + max-pool
    std::int64_t pool = 2;     // max-pool size (plain) or conv stride (residual), both axes
    bool input_bn = true;      // spec_bn
    std::int64_t dense = 512;  // hidden dense width (0 = no hidden layer: dropout then the output)
    double dropout = 0.5;
    ActivationSpec activation{};          // relu, in every block and the hidden dense layer (no maxout in residual blocks)
    std::vector<double> block_dropout{};  // per block, after its pool (plain) or its output (residual); empty = none
    init::InitSpec init{.scheme = init::Scheme::torch_default};  // the reference trains from PyTorch's default initialisation

    nlohmann::json to_json() const;
    static ShortChunkOptions from_json(const nlohmann::json& json, const ShortChunkOptions& defaults);
    void validate() const;
};

ShortChunkOptions short_chunk_cnn_options();
ShortChunkOptions short_chunk_resnet_options();
PresetInfo short_chunk_cnn_info();
PresetInfo short_chunk_resnet_info();
std::shared_ptr<TaggingModel> make_short_chunk(const PresetInfo& info, const ShortChunkOptions& options,
                                               std::int64_t n_tags);

}  // namespace mtag::nn::models
