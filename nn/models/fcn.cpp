#include "nn/models/fcn.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/crnn.hpp"
#include "nn/models/options_json.hpp"

namespace mtag::nn::models {

namespace {

const char* const k_fcn_where = "model options of fcn";

class Fcn : public TaggingModel {
  public:
    Fcn(const PresetInfo& info, const FcnOptions& o, std::int64_t n_tags)
        : TaggingModel(info, o.to_json(), n_tags, Shape{1, o.n_mels, -1}) {
        if (o.input_bn) {
            const bool time = o.input_bn_axis == "time";
            add_stage("spec_bn",
                      std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = time ? o.input_frames : 1,
                                                                     .eps = o.bn_eps,
                                                                     .axis = time ? 3 : 1}),
                      0);
        }
        std::int64_t in = 1;
        const std::int64_t pad = o.kernel_size / 2;
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            add_stage("layer" + std::to_string(i + 1),
                      conv_block_2d({.in_channels = in,
                                     .out_channels = o.channels[i],
                                     .kernel = {o.kernel_size, o.kernel_size},
                                     .padding = {pad, pad},
                                     .pool = o.pools[i],
                                     .batch_norm = o.batch_norm,
                                     .bn_eps = o.bn_eps,
                                     .activation = o.activation,
                                     .dropout = o.block_dropout.empty() ? 0.0 : o.block_dropout[i]}),
                      static_cast<int>(i));
            in = o.channels[i];
        }
        add_stage("pool",
                  std::make_shared<GlobalPool>(
                      GlobalPoolOptions{GlobalPoolOptions::Mode::max, GlobalPoolOptions::Axes::all}),
                  -1);
        add_classifier_head(in, 0, o.dropout, -1, -1);  // no hidden layer
    }
};

}  // namespace

nlohmann::json FcnOptions::to_json() const {
    return {{"n_mels", n_mels},     {"input_frames", input_frames}, {"channels", channels},
            {"pools", pools},       {"kernel_size", kernel_size},   {"batch_norm", batch_norm},
            {"input_bn", input_bn}, {"activation", activation},     {"dropout", dropout},
            {"block_dropout", block_dropout}, {"init", init},         {"input_bn_axis", input_bn_axis}, {"bn_eps", bn_eps}};
}

FcnOptions FcnOptions::from_json(const nlohmann::json& json, const FcnOptions& defaults) {
    FcnOptions o = defaults;
    OptionReader r(json, k_fcn_where);
    r.read("n_mels", o.n_mels);
    r.read("input_frames", o.input_frames);
    r.read("channels", o.channels);
    r.read("pools", o.pools);
    r.read("kernel_size", o.kernel_size);
    r.read("batch_norm", o.batch_norm);
    r.read("input_bn", o.input_bn);
    r.read("activation", o.activation);
    r.read("dropout", o.dropout);
    r.read("block_dropout", o.block_dropout);
    r.read("init", o.init);
    r.read("input_bn_axis", o.input_bn_axis);
    r.read("bn_eps", o.bn_eps);
    r.finish();
    o.validate();
    return o;
}

void FcnOptions::validate() const {
    check_option(!channels.empty(), k_fcn_where, "channels is empty, expected at least one conv block");
    check_option(pools.size() == channels.size(), k_fcn_where,
                 "channels (" + std::to_string(channels.size()) + ") and pools (" +
                     std::to_string(pools.size()) + ") must have the same length");
    check_option(
        kernel_size >= 1 && kernel_size % 2 == 1, k_fcn_where,
        "kernel_size = " + std::to_string(kernel_size) + ", expected an odd size >= 1 ('same' padding)");
    std::int64_t h = n_mels, w = input_frames;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        check_option(channels[i] >= 1 && pools[i][0] >= 1 && pools[i][1] >= 1, k_fcn_where,
                     "block " + std::to_string(i + 1) + ": channels and pool sizes must be >= 1");
        h /= pools[i][0];
        w /= pools[i][1];
        check_option(h >= 1 && w >= 1, k_fcn_where,
                     "a " + std::to_string(n_mels) + " x " + std::to_string(input_frames) +
                         " input vanishes at block " + std::to_string(i + 1) +
                         " (pools need at least the product of their sizes in each axis)");
    }
    check_option(dropout >= 0 && dropout < 1, k_fcn_where,
                 "dropout = " + std::to_string(dropout) + ", expected in [0, 1)");
    check_block_dropout(block_dropout, channels.size(), k_fcn_where);
    check_option(input_bn_axis == "channels" || input_bn_axis == "time", k_fcn_where,
                 "input_bn_axis = '" + input_bn_axis + "', expected channels or time");
    check_option(bn_eps > 0, k_fcn_where, "bn_eps must be positive");
}

FcnOptions fcn4_options() {
    return {};
}

FcnOptions fcn5_options() {
    FcnOptions o;
    o.n_mels = 96;
    o.input_frames =
        1813;  // 29 s at 16 kHz, hop 256, centred frames (the reference's input_length 29 * 16000)
    o.channels = {64, 128, 128, 128, 64};
    o.pools = {{2, 4}, {2, 4}, {2, 4}, {3, 5}, {4, 4}};
    o.input_bn = true;
    o.dropout = 0.5;
    o.init = {.scheme = init::Scheme::torch_default};
    return o;
}

FcnOptions choi2016_cnn_options() {
    FcnOptions o;
    o.channels = {32, 128, 128, 192, 256};
    o.pools = {{2, 4}, {2, 4}, {2, 4}, {3, 5}, {4, 4}};
    o.input_bn = true;
    o.input_bn_axis = "time";
    o.activation = parse_activation("elu");
    o.bn_eps = 1e-12;
    o.init = {.scheme = init::Scheme::torch_default};
    return o;
}

PresetInfo choi2016_cnn_info() {
    return {.name = "choi2016_cnn",
            .family = "fcn",
            .citation = "Choi, Fazekas & Sandler 2016, Automatic tagging using deep convolutional neural networks "
                        "(ISMIR); MusicTaggerCNN of github.com/keunwoochoi/music-auto_tagging-keras (MIT)",
            .front_end = choi2016_front_end(),
            .optimizer = {{"optimizer", "adam"}, {"lr", 1e-3}, {"batch_size", 32},
                          {"source", "Choi et al. 2016 train with ADAM + binary cross-entropy"}}};
}

PresetInfo fcn4_info() {
    return {
        .name = "fcn4",
        .family = "fcn",
        .citation =
            "Choi, Fazekas & Sandler 2016, Automatic tagging using deep convolutional neural networks "
            "(ISMIR), FCN-4; github.com/keunwoochoi/music-auto_tagging-keras",
        .front_end = {{"kind", "logmel"},
                      {"sample_rate", 12000},
                      {"n_fft", 512},
                      {"hop_length", 256},
                      {"n_mels", 96},
                      {"log", "db"}},
        .optimizer = {
            {"optimizer", "adam"},
            {"lr", 1e-3},
            {"weight_decay", 0.0},
            {"batch_size", 32},
            {"source", "Choi et al. 2016 train with ADAM + binary cross-entropy; lr and batch are mtag's"}}};
}

PresetInfo fcn5_info() {
    return {
        .name = "fcn5",
        .family = "fcn",
        .citation =
            "Choi et al. 2016 FCN as re-implemented by Won et al. 2020, Evaluation of CNN-based automatic "
            "music tagging models (SMC); github.com/minzwon/sota-music-tagging-models training/model.py FCN",
        .front_end = sota_tagging_front_end(96),
        .optimizer = sota_tagging_recipe()};
}

std::shared_ptr<TaggingModel> make_fcn(const PresetInfo& info, const FcnOptions& options,
                                       std::int64_t n_tags) {
    options.validate();
    return std::make_shared<Fcn>(info, options, n_tags);
}

}  // namespace mtag::nn::models
