#include "nn/models/zoo.hpp"

#include "nn/layers/activation.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/maxout.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/model_io.hpp"
#include "nn/models/cnn1d.hpp"
#include "nn/models/fcn.hpp"
#include "nn/models/sample_cnn.hpp"
#include "nn/models/short_chunk.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <set>

using namespace mtag::nn;
using namespace mtag::nn::models;
using Catch::Matchers::Contains;

namespace {

// Parameter counts for 50 tags of the PyTorch twins in scripts/export_check.py (`--params-only`), which
// follow the reference code layer for layer: sota-music-tagging-models model.py (fcn5 = FCN,
// short_chunk_cnn = ShortChunkCNN, short_chunk_resnet = ShortChunkCNN_Res, sample_cnn = SampleCNN),
// tae-jun/resemul model.py (sample_cnn_se = SE blocks, alpha 16, multi-level), Choi et al. 2016 FCN-4
// (fcn4), and mtag's own cnn1d configuration.
const std::map<std::string, std::size_t> k_published = {
    {"cnn1d", 407858},
    {"fcn4", 17365938},
    {"fcn5", 447732},
    {"short_chunk_cnn", 3687348},
    {"short_chunk_resnet", 12104244},
    {"sample_cnn", 1869874},
    {"sample_cnn_se", 24742706},
    // Choi et al.'s Keras files, trainable weights counted dataset by dataset (BN: gamma and beta; the
    // compact convnet's DFT kernels and mel matrix are buffers): 396,786 (CRNN), 865,950 (CNN), and the
    // compact convnet's 37,632 plus a 160 -> 50 head.
    {"crnn", 394100},  // as choi2016_crnn with torch's GRU (two biases per gate) and a one-channel input BN
    {"choi2016_crnn", 396786},
    {"choi2016_cnn", 865950},
    {"choi2017_compact", 45682},
};

Tensor noise(const Shape& shape, std::uint64_t seed) {
    return mtag::nn::test::random_tensor(shape, seed, -1.0f, 1.0f);
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool any_nonzero(const Tensor& t) {
    for (float v : t.span())
        if (v != 0.0f) return true;
    return false;
}

}  // namespace

TEST_CASE("models: every preset builds with the published parameter count", "[models]") {
    for (const std::string& name : preset_names()) {
        INFO(name);
        auto model = build_from_config({{"preset", name}, {"n_tags", 50}, {"options", preset_options(name)}});
        CHECK(model->parameter_count() == k_published.at(name));
        CHECK(model->n_tags() == 50);
        CHECK(model->block_count() >= 4);
        CHECK(!model->preset().citation.empty());
        CHECK(model->front_end().contains("sample_rate"));
        CHECK(model->preset().optimizer.contains("lr"));
        // Numeric front-end parameters are JSON numbers, as dsp::FeatureConfig reads them (not "1.0").
        const nlohmann::json front_end = model->front_end();
        if (front_end.contains("ref")) CHECK((front_end["ref"].is_number() || front_end["ref"] == "max"));
    }
}

TEST_CASE("models: forward shapes at the presets' input sizes", "[models]") {
    // Batch 1 at the full published input; fcn4 (96 x 1366, ~10 GFLOP) runs at 1/4 channel width.
    for (const std::string& name : preset_names()) {
        INFO(name);
        nlohmann::json spec{{"preset", name}, {"seed", 3}};
        if (name == "fcn4") spec["channels"] = {32, 96, 192, 512};
        if (name == "sample_cnn_se") spec["se_ratio"] = 1;  // SE width does not change shapes
        auto model = build_model(spec, 7);
        model->eval();
        const Shape in = model->input_shape(1);
        const Tensor logits = model->forward(noise(in, 1));
        CHECK(logits.shape() == Shape{1, 7});
        const Tensor e = model->embed(noise(in, 1));
        CHECK(e.shape() == Shape{1, model->embedding_size()});
        for (float v : logits.span()) CHECK(std::isfinite(v));
    }
}

TEST_CASE("models: summary lists stages with output shapes", "[models]") {
    auto model = build_model("short_chunk_cnn", 50);
    const auto rows = model->summarize(1);
    REQUIRE(rows.size() == 14);  // spec_bn, layer1..7, pool, dense1, bn, relu, dropout, dense2
    CHECK(rows[0].name == "spec_bn");
    CHECK(rows[1].output == Shape{1, 128, 64, 115});
    CHECK(rows[7].output == Shape{1, 512, 1, 1});
    CHECK(rows.back().name == "dense2");
    CHECK(rows.back().output == Shape{1, 50});
    std::size_t total = 0;
    for (const auto& r : rows) total += r.parameters;
    CHECK(total == model->parameter_count());
    CHECK_THAT(rows[1].description, Contains("Conv2d 1->128 k3x3") && Contains("MaxPool2d(2x2)"));
    CHECK(model->is_training());  // summarize restores the mode
}

TEST_CASE("models: JSON overrides change what they name and nothing else", "[models]") {
    auto base = build_model("fcn5", 50);
    auto model = build_model({{"preset", "fcn5"},
                              {"dropout", 0.25},
                              {"channels", {32, 64, 64, 64, 32}},
                              {"n_mels", 128},
                              {"pools", {{2, 4}, {2, 4}, {2, 4}, {4, 5}, {4, 4}}}},
                             50);
    CHECK(model->options()["dropout"] == 0.25);
    CHECK(model->options()["channels"] == nlohmann::json({32, 64, 64, 64, 32}));
    CHECK(model->options()["input_frames"] == base->options()["input_frames"]);
    CHECK(model->options()["input_bn"] == true);
    CHECK(model->input_shape(2) == Shape{2, 128, 1813});
    CHECK(model->front_end()["n_mels"] == 128);
    CHECK(model->embedding_size() == 32);
    CHECK(model->config()["options"] == model->options());

    auto cnn = build_model({{"preset", "cnn1d"}, {"global_pool", "max"}, {"dense", {64, 32}}}, 10);
    CHECK(cnn->embedding_size() == 32);
    CHECK(cnn->output_name() == "dense3");

    CHECK_THROWS_WITH(build_model({{"preset", "fcn5"}, {"dropuot", 0.3}}, 50),
                      Contains("unknown option 'dropuot'"));
    CHECK_THROWS_WITH(build_model({{"preset", "fcn5"}, {"dropout", "high"}}, 50),
                      Contains("'dropout' has the wrong type"));
    CHECK_THROWS_WITH(build_model({{"preset", "fcn5"}, {"input_frames", 100}}, 50), Contains("vanishes"));
    CHECK_THROWS_WITH(build_model({{"preset", "sample_cnn"}, {"input_samples", 3000}}, 50),
                      Contains("vanishes"));
    CHECK_THROWS_WITH(build_model({{"preset", "sample_cnn"}, {"block", "fancy"}}, 50),
                      Contains("expected basic or se"));
    auto fcn = build_model("fcn5", 3);
    fcn->eval();
    CHECK_THROWS_WITH(fcn->forward(Tensor({1, 128, 1813})),
                      Contains("does not fit"));  // 128 mel for a 96-mel model
    CHECK_THROWS_WITH(fcn->forward(Tensor({1, 96})), Contains("does not fit"));
    CHECK_THROWS_WITH(build_model("vgg", 50), Contains("unknown; presets: cnn1d"));
    CHECK_THROWS_WITH(build_model("cnn1d", 0), Contains("n_tags"));
}

TEST_CASE("models: the seed decides the initial weights", "[models]") {
    auto a = build_model({{"preset", "cnn1d"}, {"seed", 5}}, 10);
    auto b = build_model({{"preset", "cnn1d"}, {"seed", 5}}, 10);
    auto c = build_model({{"preset", "cnn1d"}, {"seed", 6}}, 10);
    const Tensor& wa = a->parameters()[0]->value;
    CHECK(same_bits(wa, b->parameters()[0]->value));
    CHECK(!same_bits(wa, c->parameters()[0]->value));
    CHECK(any_nonzero(wa));
}

TEST_CASE("models: parameter names follow the reference code", "[models]") {
    std::map<std::string, std::vector<std::string>> expect = {
        {"short_chunk_cnn",
         {"spec_bn.weight", "layer1.conv.weight", "layer1.bn.running_var", "layer7.conv.bias",
          "dense1.weight", "bn.weight", "dense2.bias"}},
        {"short_chunk_resnet",
         {"layer1.conv_1.weight", "layer1.bn_2.bias", "layer3.conv_3.weight", "layer7.bn_3.running_mean",
          "dense2.weight"}},
        {"sample_cnn", {"layer1.conv.weight", "layer10.bn.weight", "layer11.conv.weight", "dense.weight"}},
        {"sample_cnn_se",
         {"layer2.se.fc1.weight", "layer10.se.fc2.bias", "dense1.weight", "bn.running_mean",
          "dense2.weight"}},
        {"fcn5", {"spec_bn.weight", "layer5.conv.weight", "dense.weight"}},
    };
    for (const auto& [name, keys] : expect) {
        auto model = build_from_config({{"preset", name}, {"n_tags", 50}, {"options", preset_options(name)}});
        std::set<std::string> names;
        for (Parameter* p : model->parameters()) names.insert(p->name);
        for (Buffer* b : model->buffers()) names.insert(b->name);
        for (const std::string& k : keys) {
            INFO(name << " " << k);
            CHECK(names.count(k) == 1);
        }
    }
}

TEST_CASE("models: the output layer is re-created for another vocabulary", "[models]") {
    auto model = build_model(
        {{"preset", "short_chunk_cnn"}, {"channels", {8, 8, 16, 16, 16, 16, 32}}, {"dense", 32}}, 50);
    model->eval();
    const Tensor x = noise(model->input_shape(2), 4);
    const Tensor before = model->embed(x).clone();
    const std::size_t count = model->parameter_count();
    model->reset_output(10, 99);
    CHECK(model->n_tags() == 10);
    CHECK(model->forward(x).shape() == Shape{2, 10});
    CHECK(same_bits(model->embed(x), before));  // the features are untouched
    CHECK(model->parameter_count() == count - (32 * 50 + 50) + (32 * 10 + 10));
    bool found = false;
    for (Parameter* p : model->parameters())
        if (p->name == "dense2.weight") {
            found = true;
            CHECK(p->shape() == Shape{10, 32});
            CHECK(any_nonzero(p->value));
        }
    CHECK(found);
    CHECK(model->config()["n_tags"] == 10);
    CHECK(model->output_parameters().size() == 2);
    CHECK(model->feature_parameters().size() + 2 == model->parameters().size());
}

TEST_CASE("models: freezing the first blocks stops their gradients and BN updates", "[models]") {
    auto model = build_model(
        {{"preset", "short_chunk_cnn"}, {"channels", {8, 8, 16, 16, 16, 16, 32}}, {"dense", 32}, {"seed", 2}},
        5);
    REQUIRE(model->block_count() == 8);  // seven conv blocks + the dense head
    CHECK(model->block_stages(0) == std::vector<std::string>{"spec_bn", "layer1"});
    model->freeze_blocks(3);
    model->train();
    Tensor mean_before;
    for (Buffer* b : model->buffers())
        if (b->name == "layer2.bn.running_mean") mean_before = b->value.clone();
    model->zero_grad();
    model->set_input_grad(false);  // as a trainer does: the data needs no gradient
    const Tensor y = model->forward(noise(model->input_shape(2), 8));
    const Tensor gx = model->backward(Tensor::full(y.shape(), 1.0f));
    CHECK(!gx.defined());  // and nothing below the first trainable block needs one either
    for (Parameter* p : model->parameters()) {
        INFO(p->name);
        const bool frozen = p->name.starts_with("spec_bn") || p->name.starts_with("layer1.") ||
                            p->name.starts_with("layer2.") || p->name.starts_with("layer3.");
        CHECK(p->requires_grad == !frozen);
        if (frozen) CHECK(!any_nonzero(p->grad));
    }
    bool trained_grad = false;
    for (Parameter* p : model->parameters())
        if (p->name == "layer4.conv.weight") trained_grad = any_nonzero(p->grad);
    CHECK(trained_grad);
    for (Buffer* b : model->buffers())
        if (b->name == "layer2.bn.running_mean")
            CHECK(same_bits(b->value, mean_before));  // frozen BN stays in eval
    model->freeze_blocks(0);
    for (Parameter* p : model->parameters()) CHECK(p->requires_grad);
    CHECK_THROWS_WITH(model->freeze_blocks(9), Contains("has 8"));
}

TEST_CASE("models: gradients match finite differences through residual and multi-level paths", "[models]") {
    // Tiny versions of the two families with hand-written wiring (ResBlock2d sums, SE multi-level taps).
    // Input gradients go through every stage; weight gradients are checked tensor by tensor. Biases
    // are left out: nudging one shifts a whole channel of these tiny maps across ReLU and max-pool
    // kinks, so central differences of a bias are not a reliable reference here.
    auto res = build_model({{"preset", "short_chunk_resnet"},
                            {"channels", {3, 4, 4}},
                            {"n_mels", 8},
                            {"input_frames", 8},
                            {"dense", 5},
                            {"dropout", 0.0},
                            {"seed", 4}},
                           3);
    auto se = build_model({{"preset", "sample_cnn_se"},
                           {"input_samples", 243},
                           {"channels", {4, 4, 6, 6}},
                           {"se_ratio", 2},
                           {"dense", 6},
                           {"dropout", 0.0},
                           {"seed", 5}},
                          3);
    for (auto* model : {res.get(), se.get()}) {
        INFO(model->preset().name);
        model->eval();  // BN on running statistics: deterministic and smooth
        model->set_input_grad(true);
        const Tensor x = noise(model->input_shape(2), 11);
        const Tensor y = model->forward(x);
        const Tensor r = noise(y.shape(), 7);
        model->zero_grad();
        const Tensor gx = model->backward(r).clone();
        auto loss = [&]() { return mtag::nn::test::dot(model->forward(x), r); };
        auto worst_error = [&](const Tensor& value, const Tensor& grad) {
            double worst = 0.0, scale = 1e-2;  // float32 losses: absolute errors below 1e-4 are rounding
            const std::size_t step = std::max<std::size_t>(1, value.size() / 25);
            for (std::size_t i = 0; i < value.size(); i += step) {
                const float saved = value[i];
                value[i] = saved + 1e-3f;
                const double up = loss();
                value[i] = saved - 1e-3f;
                const double down = loss();
                value[i] = saved;
                const double numeric = (up - down) / 2e-3;
                worst = std::max(worst, std::abs(numeric - grad[i]));
                scale = std::max(scale, std::abs(numeric));
            }
            return worst / scale;
        };
        CHECK(worst_error(x, gx) < 1e-2);
        for (Parameter* p : model->parameters()) {
            if (p->value.rank() < 2) continue;
            INFO(p->name);
            CHECK(worst_error(p->value, p->grad.clone()) < 1e-2);
        }
    }
}

TEST_CASE("models: save and load round trip gives bit-identical outputs", "[models]") {
    mtag::test::TempDir dir("models_roundtrip");
    for (const std::string& name : {std::string("cnn1d"), std::string("sample_cnn_se")}) {
        INFO(name);
        nlohmann::json spec{{"preset", name}, {"seed", 9}};
        if (name == "sample_cnn_se")
            spec.update({{"input_samples", 2187}, {"channels", {8, 8, 16, 16, 16, 32}}, {"se_ratio", 4}});
        auto model = build_model(spec, 6);
        model->train();
        model->forward(noise(model->input_shape(3), 2));  // move the BN running statistics
        model->eval();
        const Tensor x = noise(model->input_shape(2), 3);
        const Tensor y = model->forward(x).clone();
        save_model(*model, dir / name, {{"tags", {"a", "b", "c", "d", "e", "f"}}});
        LoadedModel loaded = load_model(dir / name);
        auto* back = dynamic_cast<TaggingModel*>(loaded.model.get());
        REQUIRE(back != nullptr);
        CHECK(back->config() == model->config());
        CHECK(same_bits(back->forward(x), y));
        CHECK(loaded.card["metadata"]["tags"].size() == 6);
    }
}

TEST_CASE("models: every preset takes an activation, per-block dropout and an init scheme", "[models]") {
    // Built from options without initialisation (fcn4 alone has 17M weights); the options survive the
    // config round trip and the layers are there.
    for (const std::string& name : preset_names()) {
        INFO(name);
        nlohmann::json options = preset_options(name);
        const std::size_t blocks = options["channels"].size();
        std::vector<double> rates(blocks, 0.0);
        rates.back() = 0.2;
        options["activation"] = {{"name", "leaky_relu"}, {"negative_slope", 0.2}};
        options["block_dropout"] = rates;
        options["init"] = "orthogonal";
        auto model = build_from_config({{"preset", name}, {"n_tags", 5}, {"options", options}});
        CHECK(model->options()["activation"] == options["activation"]);
        CHECK(model->options()["init"] == "orthogonal");
        CHECK(model->init_spec().scheme == init::Scheme::orthogonal);
        auto rebuilt = build_from_config(model->config());
        CHECK(rebuilt->options() == model->options());
        CHECK(rebuilt->parameter_count() == model->parameter_count());
        const auto leaky = modules_of_type<LeakyReLU>(*model);
        CHECK(!leaky.empty());
        CHECK(leaky.front()->config()["negative_slope"] == Approx(0.2));
        bool found = false;
        for (Dropout* d : modules_of_type<Dropout>(*model)) found = found || d->config()["p"] == 0.2;
        CHECK(found);
        options["block_dropout"] = std::vector<double>(blocks + 1, 0.1);
        CHECK_THROWS_WITH(build_from_config({{"preset", name}, {"n_tags", 5}, {"options", options}}),
                          Contains("block_dropout has"));
    }
}

TEST_CASE("models: each activation trains a tiny cnn1d, maxout widens the layer before it", "[models]") {
    const nlohmann::json tiny{{"preset", "cnn1d"}, {"n_mels", 8},      {"input_frames", 16}, {"channels", {6, 6}},
                              {"kernel_sizes", {3, 3}}, {"pools", {2, 1}}, {"dense", {5}}, {"seed", 2}};
    for (const nlohmann::json& act : {nlohmann::json("relu"), nlohmann::json("elu"), nlohmann::json("selu"),
                                      nlohmann::json("tanh"), nlohmann::json("sigmoid"),
                                      nlohmann::json{{"name", "leaky_relu"}, {"negative_slope", 0.3}},
                                      nlohmann::json{{"name", "maxout"}, {"pieces", 3}}}) {
        INFO(act.dump());
        nlohmann::json spec = tiny;
        spec["activation"] = act;
        auto model = build_model(spec, 4);
        model->eval();
        const Tensor y = model->forward(noise(model->input_shape(2), 1));
        CHECK(y.shape() == Shape{2, 4});
        for (float v : y.span()) CHECK(std::isfinite(v));
        const bool maxout = act.is_object() && act["name"] == "maxout";
        // layer1.conv: (6 * pieces, 8, 3); dense1: (5 * pieces, 12)
        CHECK(model->parameters()[0]->shape()[0] == (maxout ? 18 : 6));
        CHECK(modules_of_type<Maxout>(*model).size() == (maxout ? 3u : 0u));
    }
    CHECK_THROWS_WITH(build_model({{"preset", "cnn1d"}, {"activation", "swish"}}, 4), Contains("expected relu"));
    CHECK_THROWS_WITH(build_model({{"preset", "cnn1d"}, {"activation", {{"name", "elu"}, {"slope", 1}}}}, 4),
                      Contains("unknown key 'slope'"));
    CHECK_THROWS_WITH(build_model({{"preset", "short_chunk_resnet"}, {"activation", "maxout"}}, 4),
                      Contains("maxout cannot follow"));
}
