#pragma once
// cnn1d: a 1-D CNN over time with log-mel bins as input channels, in the style of
// Dieleman & Schrauwen 2014, "End-to-end learning for music audio" (ICASSP) and Dieleman's 2014
// Spotify convnet: 1-D convolutions and max-pooling over TIME ONLY (each mel bin is a channel, so
// the first layer sees the whole spectrum), global temporal pooling (mean and max concatenated),
// fully connected layers, one logit per tag (the sigmoid is in the loss).
//
// The layer sizes are mtag's choice for this style, not a published table: three conv blocks
// (128, 128, 256 filters of length 4, valid padding, BN, ReLU), max-pools 4 and 2 after the first two,
// mean+max pooling (512), one hidden dense layer of 256 with ReLU and dropout 0.5.
//
// Front end (dsp FeatureConfig keys): {"kind": "logmel", "sample_rate": 16000, "n_fft": 1024,
//   "hop_length": 512, "n_mels": 128, "log": "log1p", "log1p_c": 10000} -- 128 mel bands, 64 ms
//   windows and 32 ms hops of 16 kHz audio with log(1 + 10000 x) compression as in the 2014 paper.
// Chunk: 94 frames = 1 + 47616/512, about 3 s.
// Optimizer (mtag's recipe; not from the paper): Adam lr 1e-3, batch 32.
#include "nn/init.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

struct Cnn1dOptions {
    std::int64_t n_mels = 128;       // input channels
    std::int64_t input_frames = 94;  // frames per chunk (the preset's input size)
    std::vector<std::int64_t> channels{128, 128, 256};
    std::vector<std::int64_t> kernel_sizes{4, 4, 4};
    std::vector<std::int64_t> pools{4, 2, 1};  // max-pool after each block (1 = none)
    std::int64_t padding = 0;                  // zero padding of each conv (0 = valid)
    bool batch_norm = true;
    ActivationSpec activation{};           // after each conv and hidden dense layer (activation_spec.hpp)
    std::string global_pool = "mean_max";  // mean_max | mean | max
    std::vector<std::int64_t> dense{256};  // hidden dense layers (ReLU, dropout after each)
    double dropout = 0.5;                  // after each hidden dense layer
    std::vector<double> block_dropout{};   // per conv block, after its pool (empty = none; else one per block)
    init::InitSpec init{};                 // he_normal

    nlohmann::json to_json() const;
    // Overrides `defaults` with the keys of `json`; unknown keys and wrong types throw.
    static Cnn1dOptions from_json(const nlohmann::json& json, const Cnn1dOptions& defaults);
    // Throws mtag::Error naming the option (sizes that do not survive the pooling, bad names...).
    void validate() const;
};

// The preset's front end, recipe and citation.
PresetInfo cnn1d_info();
// Builds the model (parameters zero until initialised; see nn/models/zoo.hpp).
std::shared_ptr<TaggingModel> make_cnn1d(const Cnn1dOptions& options, std::int64_t n_tags);

}  // namespace mtag::nn::models
