#include "nn/models/short_chunk.hpp"

#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/options_json.hpp"

namespace mtag::nn::models {

namespace {

const char* const k_short_chunk_where = "model options of short_chunk";

class ShortChunk : public TaggingModel {
  public:
    ShortChunk(const PresetInfo& info, const ShortChunkOptions& o, std::int64_t n_tags)
        : TaggingModel(info, o.to_json(), n_tags, Shape{1, o.n_mels, -1}) {
        if (o.input_bn)
            add_stage("spec_bn", std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 1}), 0);
        std::int64_t in = 1;
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            const std::string name = "layer" + std::to_string(i + 1);
            const double p = o.block_dropout.empty() ? 0.0 : o.block_dropout[i];
            if (o.residual) {
                add_stage(name,
                          std::make_shared<ResBlock2d>(in, o.channels[i],
                                                       std::array<std::int64_t, 2>{o.pool, o.pool}, o.activation),
                          static_cast<int>(i));
                if (p > 0)
                    add_stage(name + "_dropout", std::make_shared<Dropout>(DropoutOptions{.p = p}), static_cast<int>(i));
            } else {
                add_stage(name,
                          conv_block_2d({.in_channels = in,
                                         .out_channels = o.channels[i],
                                         .pool = {o.pool, o.pool},
                                         .activation = o.activation,
                                         .dropout = p}),
                          static_cast<int>(i));
            }
            in = o.channels[i];
        }
        add_stage("pool",
                  std::make_shared<GlobalPool>(
                      GlobalPoolOptions{GlobalPoolOptions::Mode::max, GlobalPoolOptions::Axes::all}),
                  -1);
        const int head = static_cast<int>(o.channels.size());
        add_classifier_head(in, o.dense, o.dropout, head, o.dense > 0 ? head : -1, o.activation);
    }
};

std::int64_t after(std::int64_t n, std::int64_t pool, bool residual) {
    // Max-pool floors; a stride-s 3x3 conv with padding 1 gives floor((n - 1) / s) + 1.
    return residual ? (n - 1) / pool + 1 : n / pool;
}

}  // namespace

nlohmann::json ShortChunkOptions::to_json() const {
    return {
        {"n_mels", n_mels}, {"input_frames", input_frames}, {"channels", channels}, {"residual", residual},
        {"pool", pool},     {"input_bn", input_bn},         {"dense", dense},       {"dropout", dropout},
        {"activation", activation}, {"block_dropout", block_dropout}, {"init", init}};
}

ShortChunkOptions ShortChunkOptions::from_json(const nlohmann::json& json,
                                               const ShortChunkOptions& defaults) {
    ShortChunkOptions o = defaults;
    OptionReader r(json, k_short_chunk_where);
    r.read("n_mels", o.n_mels);
    r.read("input_frames", o.input_frames);
    r.read("channels", o.channels);
    r.read("residual", o.residual);
    r.read("pool", o.pool);
    r.read("input_bn", o.input_bn);
    r.read("dense", o.dense);
    r.read("dropout", o.dropout);
    r.read("activation", o.activation);
    r.read("block_dropout", o.block_dropout);
    r.read("init", o.init);
    r.finish();
    o.validate();
    return o;
}

void ShortChunkOptions::validate() const {
    check_option(!channels.empty(), k_short_chunk_where, "channels is empty, expected at least one block");
    check_option(pool >= 1, k_short_chunk_where, "pool = " + std::to_string(pool) + ", expected >= 1");
    check_option(dense >= 0, k_short_chunk_where, "dense = " + std::to_string(dense) + ", expected >= 0");
    check_option(dropout >= 0 && dropout < 1, k_short_chunk_where,
                 "dropout = " + std::to_string(dropout) + ", expected in [0, 1)");
    check_block_dropout(block_dropout, channels.size(), k_short_chunk_where);
    check_option(
        !residual || activation.kind != ActivationSpec::Kind::maxout, k_short_chunk_where,
        "maxout cannot follow the residual sum of short_chunk_resnet's blocks; choose another activation");
    std::int64_t h = n_mels, w = input_frames;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        check_option(channels[i] >= 1, k_short_chunk_where, "channels must be >= 1");
        h = after(h, pool, residual);
        w = after(w, pool, residual);
        check_option(h >= 1 && w >= 1, k_short_chunk_where,
                     "a " + std::to_string(n_mels) + " x " + std::to_string(input_frames) +
                         " input vanishes at block " + std::to_string(i + 1) +
                         "; use more mel bands / frames or fewer blocks");
    }
}

ShortChunkOptions short_chunk_cnn_options() {
    return {};
}

ShortChunkOptions short_chunk_resnet_options() {
    ShortChunkOptions o;
    o.residual = true;
    return o;
}

namespace {
PresetInfo short_chunk_info(const std::string& name, const std::string& cls) {
    return {
        .name = name,
        .family = "short_chunk",
        .citation =
            "Won, Ferraro, Bogdanov & Serra 2020, Evaluation of CNN-based automatic music tagging models "
            "(SMC); "
            "github.com/minzwon/sota-music-tagging-models training/model.py " +
            cls,
        .front_end = sota_tagging_front_end(128),
        .optimizer = sota_tagging_recipe()};
}
}  // namespace

PresetInfo short_chunk_cnn_info() {
    return short_chunk_info("short_chunk_cnn", "ShortChunkCNN");
}
PresetInfo short_chunk_resnet_info() {
    return short_chunk_info("short_chunk_resnet", "ShortChunkCNN_Res");
}

std::shared_ptr<TaggingModel> make_short_chunk(const PresetInfo& info, const ShortChunkOptions& options,
                                               std::int64_t n_tags) {
    options.validate();
    return std::make_shared<ShortChunk>(info, options, n_tags);
}

}  // namespace mtag::nn::models
