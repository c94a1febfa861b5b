// nn/metrics against scikit-learn (fixture from scripts/make_train_fixtures.py) and hand-checked cases.
#include "nn/metrics.hpp"

#include "dsp/error.hpp"
#include "train_fixture.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag;
using namespace mtag::nn;

TEST_CASE("metrics: per-tag ROC-AUC and AP equal sklearn on random and tied scores", "[metrics]") {
    const auto fx = test::load_train_fixture("metrics.json");
    for (const auto& c : fx["tagging"]) {
        INFO("case " << c["name"].get<std::string>());
        const auto scores = c["scores"].get<std::vector<float>>();
        const auto labels = c["labels"].get<std::vector<float>>();
        const std::size_t clips = c["clips"], tags = c["tags"];
        const auto m = tagging_metrics({scores, clips, tags}, {labels, clips, tags});
        REQUIRE(m.roc_auc.size() == tags);
        for (std::size_t t = 0; t < tags; ++t) {
            INFO("tag " << t);
            if (c["roc_auc"][t].is_null()) {
                CHECK(std::isnan(m.roc_auc[t]));
                CHECK(std::isnan(m.average_precision[t]));
            } else {
                CHECK(m.roc_auc[t] == Approx(c["roc_auc"][t].get<double>()).epsilon(1e-12));
                CHECK(m.average_precision[t] == Approx(c["average_precision"][t].get<double>()).epsilon(1e-12));
            }
        }
        CHECK(m.skipped_tags == c["skipped_tags"].get<std::vector<std::size_t>>());
        CHECK(m.macro_roc_auc == Approx(c["macro_roc_auc"].get<double>()).epsilon(1e-12));
        CHECK(m.macro_average_precision == Approx(c["macro_average_precision"].get<double>()).epsilon(1e-12));
        CHECK(m.micro_roc_auc == Approx(c["micro_roc_auc"].get<double>()).epsilon(1e-12));
    }
}

TEST_CASE("metrics: ROC-AUC counts ties half, AP of a perfect ranking is 1", "[metrics]") {
    const std::vector<float> s = {0.5f, 0.5f, 0.5f, 0.5f};
    const std::vector<float> y = {1, 0, 1, 0};
    CHECK(roc_auc(s, y) == Approx(0.5));
    CHECK(average_precision(s, y) == Approx(0.5));
    const std::vector<float> s2 = {0.9f, 0.8f, 0.3f, 0.1f};
    const std::vector<float> y2 = {1, 1, 0, 0};
    CHECK(roc_auc(s2, y2) == 1.0);
    CHECK(average_precision(s2, y2) == 1.0);
    const std::vector<float> y3 = {0, 0, 0, 0};
    CHECK(std::isnan(roc_auc(s2, y3)));
    CHECK(std::isnan(average_precision(s2, y3)));
    CHECK_THROWS_AS(roc_auc(s2, std::vector<float>{1, 0}), Error);
}

TEST_CASE("metrics: accuracy, top-k, confusion matrix and per-class report equal sklearn", "[metrics]") {
    const auto fx = test::load_train_fixture("metrics.json");
    for (const auto& c : fx["classification"]) {
        INFO("case " << c["name"].get<std::string>());
        const auto scores = c["scores"].get<std::vector<float>>();
        const auto targets = c["targets"].get<std::vector<std::int32_t>>();
        const std::size_t clips = c["clips"], classes = c["classes"], k = c["k"];
        const ConstMatrixView view{scores, clips, classes};
        CHECK(accuracy(view, targets) == Approx(c["accuracy"].get<double>()));
        CHECK(top_k_accuracy(view, targets, k) == Approx(c["top_k_accuracy"].get<double>()));
        const auto cm = confusion_matrix(view, targets);
        CHECK(cm == c["confusion"].get<std::vector<std::int64_t>>());
        const auto rep = class_report(cm, classes);
        for (std::size_t i = 0; i < classes; ++i) {
            CHECK(rep.precision[i] == Approx(c["precision"][i].get<double>()));
            CHECK(rep.recall[i] == Approx(c["recall"][i].get<double>()));
            CHECK(rep.f1[i] == Approx(c["f1"][i].get<double>()));
            CHECK(rep.support[i] == c["support"][i].get<std::int64_t>());
        }
    }
}

TEST_CASE("metrics: precision@k and shape errors", "[metrics]") {
    // clip 0: top-2 = tags 2,0 -> 1 positive; clip 1: top-2 = tags 1,2 (tie broken to lower index) -> 2.
    const std::vector<float> s = {0.5f, 0.1f, 0.9f, 0.2f, 0.7f, 0.7f};
    const std::vector<float> y = {0, 1, 1, 0, 1, 1};
    CHECK(precision_at_k({s, 2, 3}, {y, 2, 3}, 2) == Approx(0.75));
    CHECK(precision_at_k({s, 2, 3}, {y, 2, 3}, 1) == Approx(1.0));
    CHECK_THROWS_AS(precision_at_k({s, 2, 3}, {y, 2, 3}, 4), Error);
    CHECK_THROWS_AS(tagging_metrics({s, 2, 3}, {y, 3, 2}), Error);
    CHECK_THROWS_AS(accuracy({s, 2, 3}, std::vector<std::int32_t>{0, 3}), Error);
}
