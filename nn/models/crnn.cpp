#include "nn/models/crnn.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/gru.hpp"
#include "nn/layers/padding.hpp"
#include "nn/layers/permute.hpp"
#include "nn/layers/reshape.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/options_json.hpp"

namespace mtag::nn::models {

namespace {

const char* const k_crnn_where = "model options of crnn";

class Crnn : public TaggingModel {
  public:
    Crnn(const PresetInfo& info, const CrnnOptions& o, std::int64_t n_tags)
        : TaggingModel(info, o.to_json(), n_tags, Shape{1, o.n_mels, -1}) {
        if (o.time_padding > 0)
            add_stage("pad", std::make_shared<ZeroPad2d>(ZeroPad2dOptions{.left = o.time_padding, .right = o.time_padding}),
                      0);
        if (o.input_bn != "none") {
            const bool time = o.input_bn == "time";
            add_stage("bn0",
                      std::make_shared<BatchNorm2d>(BatchNormOptions{
                          .num_features = time ? o.input_frames + 2 * o.time_padding : 1, .eps = o.bn_eps, .axis = time ? 3 : 1}),
                      0);
        }
        std::int64_t in = 1;
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            add_stage("layer" + std::to_string(i + 1),
                      conv_block_2d({.in_channels = in,
                                     .out_channels = o.channels[i],
                                     .kernel = {3, 3},
                                     .padding = {1, 1},
                                     .pool = o.pools[i],
                                     .bn_eps = o.bn_eps,
                                     .activation = o.activation,
                                     .dropout = o.block_dropout.empty() ? o.conv_dropout : o.block_dropout[i]}),
                      static_cast<int>(i));
            in = o.channels[i];
        }
        // (N, C, H, W) -> (N, W, C, H) -> (N, W steps, C*H features): Keras's Permute((3, 1, 2)) + Reshape.
        add_stage("permute", std::make_shared<Permute>(PermuteOptions{.dims = {0, 3, 1, 2}}), -1);
        add_stage("reshape", std::make_shared<Reshape>(ReshapeOptions{.shape = {o.steps(), o.step_features()}}), -1);
        const RnnConvention convention = parse_rnn_convention(o.gru_convention, k_crnn_where);
        std::int64_t features = o.step_features();
        const int first_block = static_cast<int>(o.channels.size());
        for (std::size_t i = 0; i < o.gru_units.size(); ++i) {
            add_stage("gru" + std::to_string(i + 1),
                      std::make_shared<GRU>(GruOptions{.input_size = features,
                                                       .hidden_size = o.gru_units[i],
                                                       .convention = convention,
                                                       .return_sequences = i + 1 < o.gru_units.size()}),
                      first_block + static_cast<int>(i));
            features = o.gru_units[i];
        }
        if (o.dropout > 0) add_stage("dropout", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}), -1);
        set_output("dense", features);
    }
};

}  // namespace

nlohmann::json CrnnOptions::to_json() const {
    return {{"n_mels", n_mels},
            {"input_frames", input_frames},
            {"time_padding", time_padding},
            {"input_bn", input_bn},
            {"channels", channels},
            {"pools", pools},
            {"activation", activation},
            {"bn_eps", bn_eps},
            {"conv_dropout", conv_dropout},
            {"block_dropout", block_dropout},
            {"gru_units", gru_units},
            {"gru_convention", gru_convention},
            {"dropout", dropout},
            {"init", init}};
}

CrnnOptions CrnnOptions::from_json(const nlohmann::json& json, const CrnnOptions& defaults) {
    CrnnOptions o = defaults;
    OptionReader r(json, k_crnn_where);
    r.read("n_mels", o.n_mels);
    r.read("input_frames", o.input_frames);
    r.read("time_padding", o.time_padding);
    r.read("input_bn", o.input_bn);
    r.read("channels", o.channels);
    r.read("pools", o.pools);
    r.read("activation", o.activation);
    r.read("bn_eps", o.bn_eps);
    r.read("conv_dropout", o.conv_dropout);
    r.read("block_dropout", o.block_dropout);
    r.read("gru_units", o.gru_units);
    r.read("gru_convention", o.gru_convention);
    r.read("dropout", o.dropout);
    r.read("init", o.init);
    r.finish();
    o.validate();
    return o;
}

std::int64_t CrnnOptions::steps() const {
    std::int64_t w = input_frames + 2 * time_padding;
    for (const auto& p : pools) w /= p[1];
    return w;
}

std::int64_t CrnnOptions::step_features() const {
    std::int64_t h = n_mels;
    for (const auto& p : pools) h /= p[0];
    return channels.empty() ? 0 : channels.back() * h;
}

void CrnnOptions::validate() const {
    check_option(!channels.empty(), k_crnn_where, "channels is empty, expected at least one conv block");
    check_option(pools.size() == channels.size(), k_crnn_where,
                 "channels (" + std::to_string(channels.size()) + ") and pools (" +
                     std::to_string(pools.size()) + ") must have the same length");
    check_option(time_padding >= 0, k_crnn_where, "time_padding must be >= 0");
    check_option(input_bn == "none" || input_bn == "channels" || input_bn == "time", k_crnn_where,
                 "input_bn = '" + input_bn + "', expected none, channels or time");
    for (std::size_t i = 0; i < channels.size(); ++i)
        check_option(channels[i] >= 1 && pools[i][0] >= 1 && pools[i][1] >= 1, k_crnn_where,
                     "block " + std::to_string(i + 1) + ": channels and pool sizes must be >= 1");
    check_option(
        steps() >= 1 && step_features() >= 1, k_crnn_where,
        "a " + std::to_string(n_mels) + " x " + std::to_string(input_frames) +
            " input vanishes in the pools (they need at least the product of their sizes in each axis)");
    check_option(!gru_units.empty(), k_crnn_where, "gru_units is empty, expected at least one GRU layer");
    for (std::int64_t u : gru_units) check_option(u >= 1, k_crnn_where, "gru_units must be >= 1");
    check_option(bn_eps > 0, k_crnn_where, "bn_eps must be positive");
    check_option(dropout >= 0 && dropout < 1 && conv_dropout >= 0 && conv_dropout < 1, k_crnn_where,
                 "dropout and conv_dropout must be in [0, 1)");
    check_block_dropout(block_dropout, channels.size(), k_crnn_where);
    parse_rnn_convention(gru_convention, k_crnn_where);
}

CrnnOptions crnn_options() {
    return {};
}

CrnnOptions choi2016_crnn_options() {
    CrnnOptions o;
    o.time_padding = 37;
    o.input_bn = "time";
    o.bn_eps = 1e-3;  // Keras 1's default; the file stores running_std = variance + 1e-3 at the padding
    o.gru_convention = "keras1";
    return o;
}

nlohmann::json choi2016_front_end() {
    return {{"kind", "logmel"}, {"sample_rate", 12000}, {"n_fft", 512},    {"hop_length", 256},
            {"n_mels", 96},     {"fmin", 0.0},          {"fmax", 6000.0}, {"mel_norm", "slaney"},
            {"power", 2.0},     {"pad_mode", "reflect"}, {"log", "db"},    {"db_input", "amplitude"},
            {"ref", 1.0},       {"top_db", 80.0}};
}

PresetInfo crnn_info() {
    return {.name = "crnn",
            .family = "crnn",
            .citation = "Choi, Fazekas, Sandler & Cho 2017, Convolutional Recurrent Neural Networks for Music "
                        "Classification (ICASSP)",
            .front_end = choi2016_front_end(),
            .optimizer = {{"optimizer", "adam"}, {"lr", 1e-3}, {"batch_size", 16},
                          {"source", "Choi et al. 2017 train with Adam; batch size is mtag's choice"}}};
}

PresetInfo choi2016_crnn_info() {
    PresetInfo info = crnn_info();
    info.name = "choi2016_crnn";
    info.citation += "; MusicTaggerCRNN of github.com/keunwoochoi/music-auto_tagging-keras (MIT)";
    return info;
}

std::shared_ptr<TaggingModel> make_crnn(const PresetInfo& info, const CrnnOptions& options, std::int64_t n_tags) {
    options.validate();
    return std::make_shared<Crnn>(info, options, n_tags);
}

}  // namespace mtag::nn::models
