#pragma once
// Fully convolutional networks (FCN) of Choi, Fazekas & Sandler 2016, "Automatic tagging using deep
// convolutional neural networks" (ISMIR): 2-D 3x3 conv blocks (conv, BN, ReLU, max-pool) on a
// (1, mel, time) log-mel map until the map is 1x1, then one output layer.
//
// fcn4 -- the paper's FCN-4: 96 mel x 1366 frames at 12 kHz (n_fft 512, hop 256: 29.1 s), conv 128,
//   384, 768, 2048 with max-pools (2,4), (4,5), (3,8), (4,8) -> 2048 x 1 x 1, output layer.
//   Front end: {"kind": "logmel", "sample_rate": 12000, "n_fft": 512, "hop_length": 256, "n_mels": 96,
//   "log": "db"} (Choi's audio_processor: librosa mel power spectrogram, then dB). Optimizer: Adam
//   (the paper trains with ADAM and binary cross-entropy); lr 1e-3 (Keras default), batch 32 is mtag's
//   choice where the paper gives no figure. No dropout, no input BN (Choi's Keras model uses ELU;
//   set "activation": "elu" for that).
// fcn5 -- the FCN of Won et al. 2020's reference code (sota-music-tagging-models, model.py FCN), which
//   the issue specifies: input BatchNorm2d(1) on the dB-mel map, conv 64, 128, 128, 128, 64 with pools
//   (2,4), (2,4), (2,4), (3,5), (4,4), dropout 0.5, dense 64 -> n_tags. Front end as the reference
//   (torchaudio MelSpectrogram + AmplitudeToDB): 16 kHz, n_fft 512, hop 256, 96 mel (HTK scale, no
//   filter normalisation), 0-8 kHz, power dB without top_db; chunk 29 s = 1813 frames.
//   Optimizer: the reference's Adam lr 1e-4 (weight_decay 1e-4), batch 16, then SGD (see preset JSON).
//   (Choi et al.'s own FCN-5 has 128..2048 channels; set "channels" to get it.)
// choi2016_cnn -- Choi et al.'s published MusicTaggerCNN (github.com/keunwoochoi/music-auto_tagging-keras,
//   music_tagger_cnn.py, MSD top-50 weights; `mtag model import --arch choi2016_cnn`): input BN over the
//   1366 time positions, conv 32, 128, 128, 192, 256 with pools (2,4), (2,4), (2,4), (3,5), (4,4), ELU, the
//   front end of choi2016_crnn (nn/models/crnn.hpp). Its file was written by Keras 1.0.6, whose BN divides
//   by (std + 1e-6): the importer folds that into running_var, hence bn_eps 1e-12 here.
// After the last block a global max over the remaining map replaces the reference's flatten: the same
// numbers when the map is 1x1 (the preset sizes), and longer inputs still work.
#include "nn/init.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

struct FcnOptions {
    std::int64_t n_mels = 96;
    std::int64_t input_frames = 1366;
    std::vector<std::int64_t> channels{128, 384, 768, 2048};
    std::vector<std::array<std::int64_t, 2>> pools{{2, 4}, {4, 5}, {3, 8}, {4, 8}};  // (mel, time)
    std::int64_t kernel_size = 3;  // square kernels, 'same' padding (k/2)
    bool batch_norm = true;
    bool input_bn = false;  // BatchNorm2d(1) on the input map (Won et al.'s spec_bn)
    // "channels" (the one input channel, Won et al.) or "time": one BN per frame position, as Choi et al.'s
    // Keras models (their "bn_0_freq" normalises axis 3 of (N, 1, mel, time): input_frames features).
    std::string input_bn_axis = "channels";
    double bn_eps = 1e-5;   // every BN layer's eps (torch 1e-5)
    ActivationSpec activation{};            // relu (activation_spec.hpp)
    double dropout = 0.0;                   // before the output layer
    std::vector<double> block_dropout{};    // per conv block, after its pool (empty = none)
    init::InitSpec init{};                  // he_normal

    nlohmann::json to_json() const;
    static FcnOptions from_json(const nlohmann::json& json, const FcnOptions& defaults);
    void validate() const;
};

FcnOptions fcn4_options();
FcnOptions fcn5_options();
FcnOptions choi2016_cnn_options();
PresetInfo fcn4_info();
PresetInfo fcn5_info();
PresetInfo choi2016_cnn_info();
// `info` says which preset the options came from (fcn4_info() or fcn5_info()).
std::shared_ptr<TaggingModel> make_fcn(const PresetInfo& info, const FcnOptions& options,
                                       std::int64_t n_tags);

}  // namespace mtag::nn::models
