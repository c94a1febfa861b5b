// Tests data/train_config: preset defaults, overrides, unknown keys, optimizer/schedule factories.
#include "data/train/train_config.hpp"
#include "dsp/error.hpp"
#include "nn/parameter.hpp"

#include <catch2/catch.hpp>

using namespace mtag;
using namespace mtag::data;

TEST_CASE("train config: the preset's recipe fills what is missing", "[train_config]") {
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "short_chunk_cnn"}}}, {"data", {{"path", "x"}}}});
    CHECK(c.batch_size == 16);  // Won et al. 2020 recipe
    c.resolve();
    CHECK(c.features.at("n_mels") == 128);
    CHECK(c.features.at("sample_rate") == 16000);
    CHECK(c.optimizer.at("name") == "adam");
    CHECK(c.optimizer.at("lr") == Approx(1e-4));
    CHECK(c.schedule.at("name") == "constant");
    CHECK(c.resolved_metric(false) == "roc_auc_macro");
    CHECK(c.resolved_metric(true) == "accuracy");

    TrainConfig w = TrainConfig::example("sample_cnn");
    CHECK(w.is_waveform());
    CHECK(w.features.at("sample_rate") == 22050);
    CHECK(w.normalization == NormalizationKind::per_sample);
    CHECK(w.optimizer.at("name") == "sgd");
    CHECK(w.optimizer.at("nesterov") == true);
}

TEST_CASE("train config: JSON round trip and overrides", "[train_config]") {
    TrainConfig c = TrainConfig::example("cnn1d");
    c.epochs = 7;
    c.eval_chunks = 4;
    c.max_minutes = 15;
    c.sync_batchnorm = true;
    const nlohmann::json j = c.to_json();
    TrainConfig back = TrainConfig::from_json(j);
    back.resolve();
    CHECK(back.to_json() == j);
    CHECK(back.epochs == 7);
    CHECK(back.max_minutes == 15);
    CHECK(back.sync_batchnorm);
    CHECK_FALSE(TrainConfig::example("cnn1d").sync_batchnorm);  // local BatchNorm statistics by default
    // The example is complete: every section present.
    for (const char* key : {"data", "features", "model", "augmentation", "optimizer", "schedule", "batch_size", "epochs",
                            "chunking", "evaluation", "early_stopping", "reload_best", "seed", "threads", "max_minutes", "sync_batchnorm"})
        CHECK(j.contains(key));
}

TEST_CASE("train config: mistakes are named", "[train_config]") {
    CHECK_THROWS_WITH(TrainConfig::from_json({{"epoch", 3}}), Catch::Contains("'epoch'") && Catch::Contains("unknown key"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"evaluation", {{"metric", 1}}}}), Catch::Contains("metric"));
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"evaluation", {{"metric", "f1"}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("f1"));
    c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"features", {{"kind", "logmel"}, {"n_mels", 64}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("64 bins") && Catch::Contains("n_mels"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"model", {{"preset", "cnnX"}}}}), Catch::Contains("cnnX"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"data", {{"paths", "x"}}}}), Catch::Contains("'paths'"));
}

TEST_CASE("train config: optimizer and schedule factories", "[train_config]") {
    nn::Parameter a("a", {2}), b("b", {3});
    auto opt = make_optimizer({{"name", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}, {"pretrained_lr_multiplier", 0.5}}, {&a}, {&b});
    CHECK(opt->kind() == "sgd");
    REQUIRE(opt->group_count() == 2);
    CHECK(opt->group_lr(0) == Approx(0.05));  // pretrained
    CHECK(opt->group_lr(1) == Approx(0.1));
    CHECK_THROWS_WITH(make_optimizer({{"name", "lbfgs"}}, {&a}), Catch::Contains("lbfgs"));
    CHECK_THROWS_WITH(make_optimizer({{"name", "adam"}, {"lrr", 1}}, {&a}), Catch::Contains("'lrr'"));
    nn::ScheduleUnit unit{};
    CHECK(make_schedule({{"name", "constant"}}, 0.1, 10, 5, unit) == nullptr);
    auto cos = make_schedule({{"name", "cosine"}, {"unit", "batch"}}, 0.1, 10, 5, unit);
    CHECK(unit == nn::ScheduleUnit::batch);
    CHECK(cos->kind() == "cosine");
    auto plateau = make_schedule({{"name", "reduce_on_plateau"}}, 0.1, 10, 5, unit);
    CHECK(unit == nn::ScheduleUnit::epoch);
    CHECK_THROWS_WITH(make_schedule({{"name", "warm"}}, 0.1, 10, 5, unit), Catch::Contains("warm"));
}
