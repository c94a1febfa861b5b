#include "nn/models/sample_cnn.hpp"

#include "dsp/error.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/squeeze_excitation.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/multi_level_pool.hpp"
#include "nn/models/options_json.hpp"
#include "nn/profile.hpp"

#include <cstring>

namespace mtag::nn::models {

namespace {

const char* const k_sample_cnn_where = "model options of sample_cnn";

class SampleCnn : public MultiLevelTaggingModel {
  public:
    SampleCnn(const PresetInfo& info, const SampleCnnOptions& o, std::int64_t n_tags)
        : MultiLevelTaggingModel(info, o.to_json(), n_tags, Shape{1, -1}) {
        int block = 0;
        add_stage("layer1",
                  conv_block_1d({.in_channels = 1,
                                 .out_channels = o.first_channels,
                                 .kernel = {1, o.first_stride},
                                 .stride = {1, o.first_stride},
                                 .padding = {0, 0},
                                 .activation = o.activation}),
                  block++);
        std::int64_t in = o.first_channels;
        std::vector<std::pair<std::string, std::int64_t>> outputs;  // tappable stages and their widths
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            auto b = conv_block_1d({.in_channels = in,
                                    .out_channels = o.channels[i],
                                    .kernel = {1, o.kernel_size},
                                    .padding = {0, o.kernel_size / 2},
                                    .pool = {1, o.pool},
                                    .activation = o.activation,
                                    .dropout = o.block_dropout.empty() ? 0.0 : o.block_dropout[i]});
            if (o.block == "se")
                b->add("se", std::make_shared<SqueezeExcitation>(
                                 SqueezeExcitationOptions{o.channels[i], o.se_ratio * o.channels[i]}));
            outputs.emplace_back("layer" + std::to_string(i + 2), o.channels[i]);
            add_stage(outputs.back().first, b, block++);
            in = o.channels[i];
        }
        if (o.final_channels > 0) {
            outputs.emplace_back("layer" + std::to_string(o.channels.size() + 2), o.final_channels);
            add_stage(outputs.back().first,
                      conv_block_1d({.in_channels = in,
                                     .out_channels = o.final_channels,
                                     .kernel = {1, 1},
                                     .padding = {0, 0},
                                     .activation = o.activation}),
                      block++);
            in = o.final_channels;
        }
        std::int64_t features = in;
        const GlobalPoolOptions max_over_time{GlobalPoolOptions::Mode::max, GlobalPoolOptions::Axes::time};
        if (o.multi_level > 0) {
            std::vector<std::string> taps;
            features = 0;
            for (std::size_t k = outputs.size() - static_cast<std::size_t>(o.multi_level); k < outputs.size(); ++k) {
                taps.push_back(outputs[k].first);
                features += outputs[k].second;
            }
            add_multi_level_pool("pool", taps, max_over_time);
        } else {
            add_stage("pool", std::make_shared<GlobalPool>(max_over_time), -1);
        }
        add_classifier_head(features, o.dense, o.dropout, block, -1, o.activation);
    }
};

}  // namespace

nlohmann::json SampleCnnOptions::to_json() const {
    return {{"input_samples", input_samples},
            {"first_channels", first_channels},
            {"first_stride", first_stride},
            {"channels", channels},
            {"kernel_size", kernel_size},
            {"pool", pool},
            {"final_channels", final_channels},
            {"block", block},
            {"se_ratio", se_ratio},
            {"multi_level", multi_level},
            {"dense", dense},
            {"dropout", dropout},
            {"activation", activation},
            {"block_dropout", block_dropout},
            {"init", init}};
}

SampleCnnOptions SampleCnnOptions::from_json(const nlohmann::json& json, const SampleCnnOptions& defaults) {
    SampleCnnOptions o = defaults;
    OptionReader r(json, k_sample_cnn_where);
    r.read("input_samples", o.input_samples);
    r.read("first_channels", o.first_channels);
    r.read("first_stride", o.first_stride);
    r.read("channels", o.channels);
    r.read("kernel_size", o.kernel_size);
    r.read("pool", o.pool);
    r.read("final_channels", o.final_channels);
    r.read("block", o.block);
    r.read("se_ratio", o.se_ratio);
    r.read("multi_level", o.multi_level);
    r.read("dense", o.dense);
    r.read("dropout", o.dropout);
    r.read("activation", o.activation);
    r.read("block_dropout", o.block_dropout);
    r.read("init", o.init);
    r.finish();
    o.validate();
    return o;
}

void SampleCnnOptions::validate() const {
    check_option(first_channels >= 1 && first_stride >= 1, k_sample_cnn_where,
                 "first_channels and first_stride must be >= 1");
    check_option(!channels.empty(), k_sample_cnn_where, "channels is empty, expected at least one block");
    check_option(kernel_size >= 1 && kernel_size % 2 == 1, k_sample_cnn_where,
                 "kernel_size = " + std::to_string(kernel_size) + ", expected an odd size ('same' padding)");
    check_option(pool >= 1, k_sample_cnn_where, "pool must be >= 1");
    check_option(final_channels >= 0 && dense >= 0, k_sample_cnn_where,
                 "final_channels and dense must be >= 0");
    check_option(block == "basic" || block == "se", k_sample_cnn_where,
                 "block '" + block + "', expected basic or se");
    check_option(se_ratio >= 1, k_sample_cnn_where, "se_ratio must be >= 1");
    const std::int64_t tappable = static_cast<std::int64_t>(channels.size()) + (final_channels > 0 ? 1 : 0);
    check_option(
        multi_level >= 0 && multi_level <= tappable, k_sample_cnn_where,
        "multi_level = " + std::to_string(multi_level) + ", expected 0.." + std::to_string(tappable));
    check_option(dropout >= 0 && dropout < 1, k_sample_cnn_where,
                 "dropout = " + std::to_string(dropout) + ", expected in [0, 1)");
    check_block_dropout(block_dropout, channels.size(), k_sample_cnn_where);
    std::int64_t length = input_samples / first_stride;
    check_option(length >= 1, k_sample_cnn_where,
                 "input_samples = " + std::to_string(input_samples) + " is shorter than first_stride");
    for (std::size_t i = 0; i < channels.size(); ++i) {
        check_option(channels[i] >= 1, k_sample_cnn_where, "channels must be >= 1");
        length /= pool;
        check_option(length >= 1, k_sample_cnn_where,
                     "input_samples = " + std::to_string(input_samples) + " vanishes at block " +
                         std::to_string(i + 2) +
                         " (needs first_stride * pool^blocks samples, e.g. 3^10 = 59049)");
    }
}

SampleCnnOptions sample_cnn_options() {
    return {};
}

SampleCnnOptions sample_cnn_se_options() {
    SampleCnnOptions o;
    o.final_channels = 0;
    o.block = "se";
    o.se_ratio = 16;
    o.multi_level = 3;
    o.dense = 1024;
    return o;
}

PresetInfo sample_cnn_info() {
    return {
        .name = "sample_cnn",
        .family = "sample_cnn",
        .citation =
            "Lee, Park, Kim & Nam 2017, Sample-level deep convolutional neural networks for music "
            "auto-tagging "
            "using raw waveforms (SMC), 3^9 model; layers as sota-music-tagging-models model.py SampleCNN",
        .front_end = {{"kind", "waveform"}, {"sample_rate", 22050}},
        .optimizer = {
            {"optimizer", "sgd"},
            {"lr", 0.01},
            {"momentum", 0.9},
            {"nesterov", true},
            {"decay_per_step", 1e-6},
            {"batch_size", 23},
            {"then",
             "lr x 0.2 when validation loss has not improved for 3 epochs: 0.01, 0.002, 4e-4, 8e-5, 1.6e-5"},
            {"source", "github.com/jongpillee/sampleCNN run_pubtaga_endToEnd_cnn_novalidgen.py"}}};
}

PresetInfo sample_cnn_se_info() {
    return {
        .name = "sample_cnn_se",
        .family = "sample_cnn",
        .citation =
            "Kim, Lee & Nam 2018, Sample-level CNN architectures for music auto-tagging using raw waveforms "
            "(ICASSP), SE blocks + multi-level aggregation; github.com/tae-jun/resemul model.py",
        .front_end = {{"kind", "waveform"}, {"sample_rate", 22050}},
        .optimizer = {{"optimizer", "sgd"},
                      {"lr", 0.01},
                      {"momentum", 0.9},
                      {"nesterov", true},
                      {"decay_per_step", 1e-6},
                      {"batch_size", 23},
                      {"weight_decay", 0.0},
                      {"then", "lr x 0.2 after 2 epochs without validation-loss improvement, 5 stages"},
                      {"source", "github.com/tae-jun/resemul train.py"}}};
}

std::shared_ptr<TaggingModel> make_sample_cnn(const PresetInfo& info, const SampleCnnOptions& options,
                                              std::int64_t n_tags) {
    options.validate();
    return std::make_shared<SampleCnn>(info, options, n_tags);
}

}  // namespace mtag::nn::models
