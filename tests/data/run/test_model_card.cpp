// Tests data/model_card: JSON round trip, validation messages, and save_run/load_run with a real preset.
#include "data/run/model_card.hpp"
#include "dsp/error.hpp"
#include "nn/models/tagging_model.hpp"
#include "nn/models/zoo.hpp"
#include "data/fixtures.hpp"

#include <catch2/catch.hpp>

using namespace mtag;
using namespace mtag::data;

namespace {

// A tiny cnn1d card: 8 mel bins, 16 frames.
ModelCard tiny_card() {
    ModelCard card;
    card.mtag_version = "test";
    card.preset = "cnn1d";
    card.model_options = {{"preset", "cnn1d"}, {"n_mels", 8}, {"input_frames", 16}, {"channels", {4, 4, 4}},
                          {"kernel_sizes", {3, 3, 3}}, {"pools", {2, 1, 1}}, {"dense", {8}}};
    dsp::FeatureConfig f;
    f.sample_rate = 8000;
    f.n_fft = 256;
    f.hop_length = 128;
    f.n_mels = 8;
    card.features = f;
    card.input_length = 16;
    card.tags = {"low", "mid", "high"};
    card.normalization.kind = NormalizationKind::per_bin;
    card.normalization.mean.assign(8, 0.5f);
    card.normalization.std.assign(8, 2.0f);
    card.normalization.count = 100;
    card.evaluation.length = 16;
    card.evaluation.eval_chunks = 4;
    card.training = {{"epochs", 3}};
    return card;
}

}  // namespace

TEST_CASE("model card round-trips through JSON", "[model_card]") {
    const ModelCard card = tiny_card();
    const nlohmann::json j = card.to_json();
    CHECK(j.at("input").at("frames") == 16);
    CHECK(j.at("task") == "multilabel");
    const ModelCard back = ModelCard::from_json(j);
    CHECK(back.to_json() == j);
    CHECK(back.tags == card.tags);
    CHECK(back.feature_config() == card.feature_config());
    CHECK(back.chunk_samples() == 15 * 128);
    CHECK(back.sample_rate() == 8000);
    CHECK_FALSE(back.is_waveform());
    CHECK(back.activation() == ChunkActivation::sigmoid);
}

TEST_CASE("model card for a waveform model", "[model_card]") {
    ModelCard card = tiny_card();
    card.features = WaveformInput{22050};
    card.input_length = 59049;
    card.evaluation.length = 59049;
    card.task = Task::singlelabel;
    CHECK_THROWS_WITH(card.validate(), Catch::Contains("per_bin"));
    card.normalization = {};
    card.normalization.kind = NormalizationKind::per_sample;
    const ModelCard back = ModelCard::from_json(card.to_json());
    CHECK(back.is_waveform());
    CHECK(back.chunk_samples() == 59049);
    CHECK(back.to_json().at("input").at("samples") == 59049);
    CHECK(back.activation() == ChunkActivation::softmax);
    CHECK_THROWS_AS(back.feature_config(), Error);
}

TEST_CASE("model card validation says got and expected", "[model_card]") {
    ModelCard card = tiny_card();
    card.tags = {"a", "a", "b"};
    CHECK_THROWS_WITH(card.validate(), Catch::Contains("duplicate tag 'a'"));
    card = tiny_card();
    card.normalization.mean.assign(5, 0.0f);
    CHECK_THROWS_WITH(card.validate(), Catch::Contains("got 5 values") && Catch::Contains("expected 8"));
    card = tiny_card();
    card.evaluation.length = 3;
    CHECK_THROWS_WITH(card.validate(), Catch::Contains("evaluation.length"));
    nlohmann::json j = tiny_card().to_json();
    j["card_version"] = 99;
    CHECK_THROWS_WITH(ModelCard::from_json(j), Catch::Contains("card_version: got 99"));
    j = tiny_card().to_json();
    j.erase("tags");
    CHECK_THROWS_WITH(ModelCard::from_json(j), Catch::Contains("tags"));
    j = tiny_card().to_json();
    j["task"] = "regression";
    CHECK_THROWS_WITH(ModelCard::from_json(j), Catch::Contains("regression"));
    CHECK_THROWS_WITH(chunk_options_from_json({{"eval", "random"}}), Catch::Contains("random"));
}

TEST_CASE("save_run and load_run give the same model and card", "[model_card]") {
    const auto dir = test::fresh_dir("model_card_run");
    const ModelCard card = tiny_card();
    auto model = nn::models::build_model(card.model_options, 3);
    model->eval();
    save_run(*model, card, dir);
    const RunModel run = load_run(dir);
    CHECK(run.card.to_json() == card.to_json());
    CHECK(load_card(dir).tags == card.tags);
    REQUIRE(run.model);
    CHECK(run.model->n_tags() == 3);
    nn::Tensor x = nn::Tensor::full(model->input_shape(2), 0.25f);
    const nn::Tensor a = model->forward(x);
    const nn::Tensor b = run.model->forward(x);
    REQUIRE(a.shape().numel() == b.shape().numel());
    for (std::int64_t i = 0; i < a.shape().numel(); ++i) CHECK(a.data()[i] == b.data()[i]);

    ModelCard wrong = card;
    wrong.tags = {"x", "y"};
    CHECK_THROWS_WITH(save_run(*model, wrong, dir), Catch::Contains("tags"));
    CHECK_THROWS_WITH(load_run(dir / "missing"), Catch::Contains("missing"));
}
