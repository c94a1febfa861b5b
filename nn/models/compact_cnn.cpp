#include "nn/models/compact_cnn.hpp"

#include "nn/layers/dft_melgram.hpp"
#include "nn/models/blocks.hpp"
#include "nn/models/options_json.hpp"

namespace mtag::nn::models {

namespace {

const char* const k_compact_cnn_where = "model options of choi2017_compact";

class CompactCnn : public MultiLevelTaggingModel {
  public:
    CompactCnn(const PresetInfo& info, const CompactCnnOptions& o, std::int64_t n_tags)
        : MultiLevelTaggingModel(info, o.to_json(), n_tags, Shape{1, -1}) {
        add_stage("melgram",
                  std::make_shared<DftMelgram>(
                      DftMelgramOptions{.n_dft = o.n_dft, .hop_length = o.hop_length, .n_mels = o.n_mels}),
                  0);
        std::int64_t in = 1, features = 0;
        std::vector<std::string> taps;
        for (std::size_t i = 0; i < o.channels.size(); ++i) {
            taps.push_back("layer" + std::to_string(i + 1));
            add_stage(taps.back(),
                      conv_block_2d({.in_channels = in,
                                     .out_channels = o.channels[i],
                                     .kernel = {3, 3},
                                     .padding = {1, 1},
                                     .pool = o.pools[i],
                                     .bn_eps = o.bn_eps,
                                     .bn_batch_stats_in_eval = o.batch_stats_in_eval,
                                     .activation = o.activation,
                                     .dropout = o.block_dropout.empty() ? 0.0 : o.block_dropout[i]}),
                      static_cast<int>(i));
            in = o.channels[i];
            features += o.channels[i];
        }
        add_multi_level_pool("pool", taps, GlobalPoolOptions{GlobalPoolOptions::Mode::avg, GlobalPoolOptions::Axes::all});
        set_output("dense", features);
    }
};

}  // namespace

nlohmann::json CompactCnnOptions::to_json() const {
    return {{"input_samples", input_samples}, {"n_dft", n_dft},   {"hop_length", hop_length},
            {"n_mels", n_mels},               {"channels", channels}, {"pools", pools},
            {"bn_eps", bn_eps},               {"batch_stats_in_eval", batch_stats_in_eval},
            {"activation", activation},       {"block_dropout", block_dropout}, {"init", init}};
}

CompactCnnOptions CompactCnnOptions::from_json(const nlohmann::json& json, const CompactCnnOptions& defaults) {
    CompactCnnOptions o = defaults;
    OptionReader r(json, k_compact_cnn_where);
    r.read("input_samples", o.input_samples);
    r.read("n_dft", o.n_dft);
    r.read("hop_length", o.hop_length);
    r.read("n_mels", o.n_mels);
    r.read("channels", o.channels);
    r.read("pools", o.pools);
    r.read("bn_eps", o.bn_eps);
    r.read("batch_stats_in_eval", o.batch_stats_in_eval);
    r.read("activation", o.activation);
    r.read("block_dropout", o.block_dropout);
    r.read("init", o.init);
    r.finish();
    o.validate();
    return o;
}

void CompactCnnOptions::validate() const {
    check_option(!channels.empty() && pools.size() == channels.size(), k_compact_cnn_where,
                 "channels and pools must be non-empty and of the same length");
    check_option(n_dft >= 2 && hop_length >= 1 && n_mels >= 1 && input_samples >= n_dft, k_compact_cnn_where,
                 "n_dft >= 2, hop_length >= 1, n_mels >= 1 and input_samples >= n_dft expected");
    std::int64_t h = n_mels, w = (input_samples + hop_length - 1) / hop_length;
    for (std::size_t i = 0; i < pools.size(); ++i) {
        h /= pools[i][0];
        w /= pools[i][1];
        check_option(
            channels[i] >= 1 && h >= 1 && w >= 1, k_compact_cnn_where,
            "the input vanishes at block " + std::to_string(i + 1) + " (pools too large for the input)");
    }
    check_option(bn_eps > 0, k_compact_cnn_where, "bn_eps must be positive");
    check_block_dropout(block_dropout, channels.size(), k_compact_cnn_where);
}

CompactCnnOptions choi2017_compact_options() {
    return {};
}

PresetInfo choi2017_compact_info() {
    return {.name = "choi2017_compact",
            .family = "compact_cnn",
            .citation = "Choi, Fazekas, Sandler & Cho 2017, Transfer learning for music classification and regression "
                        "tasks (ISMIR); compact_cnn of github.com/keunwoochoi/music-auto_tagging-keras (MIT)",
            .front_end = {{"kind", "waveform"}, {"sample_rate", 12000}},
            .optimizer = {{"optimizer", "adam"}, {"lr", 1e-3}, {"batch_size", 16},
                          {"source", "mtag's choice for a new head on the transfer features"}}};
}

std::shared_ptr<TaggingModel> make_compact_cnn(const PresetInfo& info, const CompactCnnOptions& options,
                                               std::int64_t n_tags) {
    options.validate();
    return std::make_shared<CompactCnn>(info, options, n_tags);
}

}  // namespace mtag::nn::models
