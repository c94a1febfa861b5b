#pragma once
// The compact convnet of Choi, Fazekas, Sandler & Cho 2017, "Transfer learning for music classification and
// regression tasks" (ISMIR): raw 12 kHz audio through a kapre log-mel front end whose DFT kernels and mel
// matrix are weights (nn/layers/dft_melgram.hpp), then 5 conv blocks of 32 maps (conv 3x3 'same', BatchNorm
// normalising with each batch's own statistics -- Keras 1 mode 2 -- ELU, max-pool (2,4), (3,4), (2,5),
// (2,4), (4,4)). Its feature is the paper's: the global average of each block's output after the pool,
// concatenated (5 x 32 = 160 dims), which is this model's embedding (`mtag tag --embeddings`).
//
// choi2017_compact -- the published weights (github.com/keunwoochoi/music-auto_tagging-keras compact_cnn,
//   MSD-trained, MIT): a feature extractor without its tagging head. Imported, it gets an untrained
//   one-output head ("none") so the model directory is complete; `mtag tag` refuses to score with it and
//   `--embeddings` gives the 160 features; `mtag train --init-from choi2017_compact` puts a new head on it.
//   Input: the first 29 s of a file (348,000 samples at 12 kHz, zero-padded), as upstream.
// Mode-2 BatchNorm normalises over the batch: upstream predicted one clip at a time, so the tagger feeds
// this model one chunk per forward pass (TaggingModel::batch_dependent()).
#include "nn/models/multi_level_pool.hpp"

#include <array>
#include <vector>

namespace mtag::nn::models {

struct CompactCnnOptions {
    std::int64_t input_samples = 348000;
    std::int64_t n_dft = 512;
    std::int64_t hop_length = 256;
    std::int64_t n_mels = 96;
    std::vector<std::int64_t> channels{32, 32, 32, 32, 32};
    std::vector<std::array<std::int64_t, 2>> pools{{2, 4}, {3, 4}, {2, 5}, {2, 4}, {4, 4}};
    double bn_eps = 1e-3;
    bool batch_stats_in_eval = true;  // Keras 1 BatchNormalization mode 2
    ActivationSpec activation = parse_activation("elu");
    std::vector<double> block_dropout{};  // per conv block, after its pool (empty = none)
    init::InitSpec init{.scheme = init::Scheme::he_uniform};

    nlohmann::json to_json() const;
    static CompactCnnOptions from_json(const nlohmann::json& json, const CompactCnnOptions& defaults);
    void validate() const;
};

CompactCnnOptions choi2017_compact_options();
PresetInfo choi2017_compact_info();
std::shared_ptr<TaggingModel> make_compact_cnn(const PresetInfo& info, const CompactCnnOptions& options,
                                               std::int64_t n_tags);

}  // namespace mtag::nn::models
