#include "nn/models/cnn1d.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/linear.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/options_json.hpp"

namespace mtag::nn::models {

namespace {

const char* const k_cnn1d_where = "model options of cnn1d";

class Cnn1d : public TaggingModel {
  public:
    Cnn1d(const Cnn1dOptions& o, std::int64_t n_tags)
        : TaggingModel(cnn1d_info(), o.to_json(), n_tags, Shape{o.n_mels, -1}) {
        std::int64_t in = o.n_mels;
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            ConvBlockOptions b{.in_channels = in,
                               .out_channels = o.channels[i],
                               .kernel = {1, o.kernel_sizes[i]},
                               .stride = {1, 1},
                               .padding = {0, o.padding},
                               .pool = {1, o.pools[i]},
                               .batch_norm = o.batch_norm,
                               .activation = o.activation,
                               .dropout = o.block_dropout.empty() ? 0.0 : o.block_dropout[i]};
            add_stage("layer" + std::to_string(i + 1), conv_block_1d(b), static_cast<int>(i));
            in = o.channels[i];
        }
        using Mode = GlobalPoolOptions::Mode;
        using Axes = GlobalPoolOptions::Axes;
        std::int64_t features = in;
        if (o.global_pool == "mean_max") {
            add_stage("pool",
                      std::make_shared<Branch>(std::vector<std::shared_ptr<Module>>{
                          std::make_shared<GlobalPool>(GlobalPoolOptions{Mode::avg, Axes::time}),
                          std::make_shared<GlobalPool>(GlobalPoolOptions{Mode::max, Axes::time})}),
                      -1);
            features = 2 * in;
        } else {
            add_stage("pool",
                      std::make_shared<GlobalPool>(
                          GlobalPoolOptions{o.global_pool == "max" ? Mode::max : Mode::avg, Axes::time}),
                      -1);
        }
        const int head = static_cast<int>(o.channels.size());
        for (std::size_t i = 0; i < o.dense.size(); ++i) {
            const std::string k = std::to_string(i + 1);
            add_stage("dense" + k,
                      std::make_shared<Linear>(LinearOptions{features, o.dense[i] * o.activation.width()}), head);
            add_stage(o.activation.name() + k, make_activation(o.activation), head);
            if (o.dropout > 0)
                add_stage("dropout" + k, std::make_shared<Dropout>(DropoutOptions{o.dropout, 1000 + i}),
                          head);
            features = o.dense[i];
        }
        set_output("dense" + std::to_string(o.dense.size() + 1), features);
    }
};

}  // namespace

nlohmann::json Cnn1dOptions::to_json() const {
    return {{"n_mels", n_mels},
            {"input_frames", input_frames},
            {"channels", channels},
            {"kernel_sizes", kernel_sizes},
            {"pools", pools},
            {"padding", padding},
            {"batch_norm", batch_norm},
            {"activation", activation},
            {"global_pool", global_pool},
            {"dense", dense},
            {"dropout", dropout},
            {"block_dropout", block_dropout},
            {"init", init}};
}

Cnn1dOptions Cnn1dOptions::from_json(const nlohmann::json& json, const Cnn1dOptions& defaults) {
    Cnn1dOptions o = defaults;
    OptionReader r(json, k_cnn1d_where);
    r.read("n_mels", o.n_mels);
    r.read("input_frames", o.input_frames);
    r.read("channels", o.channels);
    r.read("kernel_sizes", o.kernel_sizes);
    r.read("pools", o.pools);
    r.read("padding", o.padding);
    r.read("batch_norm", o.batch_norm);
    r.read("activation", o.activation);
    r.read("global_pool", o.global_pool);
    r.read("dense", o.dense);
    r.read("dropout", o.dropout);
    r.read("block_dropout", o.block_dropout);
    r.read("init", o.init);
    r.finish();
    // A changed channel list with the default (3-entry) kernel/pool lists: repeat their last entry.
    if (json.is_object() && json.contains("channels")) {
        if (!json.contains("kernel_sizes"))
            o.kernel_sizes.resize(o.channels.size(), defaults.kernel_sizes.back());
        if (!json.contains("pools")) o.pools.resize(o.channels.size(), 1);
    }
    o.validate();
    return o;
}

void Cnn1dOptions::validate() const {
    check_option(n_mels >= 1, k_cnn1d_where, "n_mels = " + std::to_string(n_mels) + ", expected >= 1");
    check_option(!channels.empty(), k_cnn1d_where, "channels is empty, expected at least one conv block");
    check_option(kernel_sizes.size() == channels.size() && pools.size() == channels.size(), k_cnn1d_where,
                 "channels, kernel_sizes and pools must have the same length (got " +
                     std::to_string(channels.size()) + ", " + std::to_string(kernel_sizes.size()) + ", " +
                     std::to_string(pools.size()) + ")");
    check_option(padding >= 0, k_cnn1d_where, "padding must be >= 0");
    std::int64_t length = input_frames;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        check_option(channels[i] >= 1 && kernel_sizes[i] >= 1 && pools[i] >= 1, k_cnn1d_where,
                     "block " + std::to_string(i + 1) + ": channels, kernel size and pool must be >= 1");
        length = length + 2 * padding - kernel_sizes[i] + 1;
        if (pools[i] > 1) length /= pools[i];
        check_option(length >= 1, k_cnn1d_where,
                     "input_frames = " + std::to_string(input_frames) +
                         " is too short: nothing is left after block " + std::to_string(i + 1) +
                         " (kernels and pools need more frames)");
    }
    check_option(global_pool == "mean_max" || global_pool == "mean" || global_pool == "max", k_cnn1d_where,
                 "global_pool '" + global_pool + "', expected mean_max, mean or max");
    for (std::int64_t d : dense) check_option(d >= 1, k_cnn1d_where, "dense layer sizes must be >= 1");
    check_option(dropout >= 0 && dropout < 1, k_cnn1d_where,
                 "dropout = " + std::to_string(dropout) + ", expected in [0, 1)");
    check_block_dropout(block_dropout, channels.size(), k_cnn1d_where);
}

PresetInfo cnn1d_info() {
    return {
        .name = "cnn1d",
        .family = "cnn1d",
        .citation =
            "Dieleman & Schrauwen 2014, End-to-end learning for music audio (ICASSP): 1-D convolutions over "
            "time on log-mel bins as channels; global temporal pooling as in Dieleman's 2014 Spotify "
            "convnet. "
            "Layer sizes are mtag's.",
        .front_end = {{"kind", "logmel"},
                      {"sample_rate", 16000},
                      {"n_fft", 1024},
                      {"hop_length", 512},
                      {"n_mels", 128},
                      {"fmin", 0.0},
                      {"fmax", 8000.0},
                      {"log", "log1p"},
                      {"log1p_c", 10000.0}},
        .optimizer = {{"optimizer", "adam"},
                      {"lr", 1e-3},
                      {"weight_decay", 0.0},
                      {"batch_size", 32},
                      {"source", "mtag default (the layer sizes and recipe are not from the paper)"}}};
}

std::shared_ptr<TaggingModel> make_cnn1d(const Cnn1dOptions& options, std::int64_t n_tags) {
    options.validate();
    return std::make_shared<Cnn1d>(options, n_tags);
}

}  // namespace mtag::nn::models
