#pragma once
// Convolutional recurrent networks of Choi, Fazekas, Sandler & Cho 2017, "Convolutional Recurrent Neural
// Networks for Music Classification" (ICASSP): 2-D conv blocks (conv 3x3 'same', BN, ELU, max-pool, dropout)
// shrink a (1, mel, time) log-mel map to one frequency row, whose time steps feed two stacked GRUs; the last
// GRU's final state goes to the output layer.
//
// choi2016_crnn -- the published MusicTaggerCRNN (github.com/keunwoochoi/music-auto_tagging-keras,
//   music_tagger_crnn.py, MSD top-50 weights, MIT; `mtag model import --arch choi2016_crnn`), every
//   convention of Keras 1: the 96 x 1366 map zero-padded by 37 frames on each side, BN over the 1440 time
//   positions (Keras axis 3), conv 64, 128, 128, 128 with pools (2,2), (3,3), (4,4), (4,4), BN eps 1e-3,
//   ELU, dropout 0.1; the (128, 1, 15) map read as 15 steps of 128 features (Permute((3,1,2)), Reshape);
//   GRU 32 (sequences) -> GRU 32 (last state) with Keras 1's hard-sigmoid gates and reset before U_h;
//   dropout 0.3; dense 50 (the sigmoid belongs to the tagger).
// crnn -- the same network as a trainable preset with torch's conventions (PyTorch GRU, BN eps 1e-5, an
//   input BatchNorm2d(1) instead of the per-position one, no time padding): its PyTorch twin is built by
//   scripts/export_check.py (build_twin("crnn")).
//
// Front end of both (Choi et al.'s audio_processor.py): 12 kHz, n_fft 512, hop 256, 96 slaney mel bands
// 0-6 kHz of the power spectrum with reflect-padded centred frames, then upstream's logamplitude(S**2):
// 10*log10 of the squared mel power (db_input "amplitude"), ref 1, floored at max - 80 dB; one 1366-frame
// (29.12 s) input from the centre of the file (eval_chunks 1), zero-padded when shorter.
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

struct CrnnOptions {
    std::int64_t n_mels = 96;
    std::int64_t input_frames = 1366;
    std::int64_t time_padding = 0;          // zero frames added on each side before the input BN
    std::string input_bn = "channels";      // none | channels (BatchNorm2d(1)) | time (one per position)
    std::vector<std::int64_t> channels{64, 128, 128, 128};
    std::vector<std::array<std::int64_t, 2>> pools{{2, 2}, {3, 3}, {4, 4}, {4, 4}};  // (mel, time)
    ActivationSpec activation = parse_activation("elu");
    double bn_eps = 1e-5;
    double conv_dropout = 0.1;              // after each conv block's pool
    std::vector<double> block_dropout{};    // per conv block, replacing conv_dropout when given
    std::vector<std::int64_t> gru_units{32, 32};
    std::string gru_convention = "pytorch";  // pytorch | keras1 (nn/layers/recurrent.hpp)
    double dropout = 0.3;                   // before the output layer
    init::InitSpec init{.scheme = init::Scheme::torch_default};

    nlohmann::json to_json() const;
    static CrnnOptions from_json(const nlohmann::json& json, const CrnnOptions& defaults);
    void validate() const;
    // Steps and features per step the GRUs see: (frames + 2 pad) and n_mels shrunk by the pools.
    std::int64_t steps() const;
    std::int64_t step_features() const;
};

CrnnOptions crnn_options();
CrnnOptions choi2016_crnn_options();
PresetInfo crnn_info();
PresetInfo choi2016_crnn_info();
// The front end of Choi et al.'s Keras taggers (see above), FeatureConfig JSON keys.
nlohmann::json choi2016_front_end();

std::shared_ptr<TaggingModel> make_crnn(const PresetInfo& info, const CrnnOptions& options, std::int64_t n_tags);

}  // namespace mtag::nn::models
