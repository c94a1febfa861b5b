#include "data/sweep/search_space.hpp"
#include "data/sweep/sweep.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::data;
using Catch::Matchers::Contains;

TEST_CASE("search_space: samples stay in range, log-uniform covers decades evenly, ints include both ends") {
    const SearchSpace space = SearchSpace::from_json(nlohmann::json::parse(R"({
        "optimizer.lr": {"log_uniform": [1e-4, 1e-1]},
        "model.dropout": {"uniform": [0.1, 0.5]},
        "batch_size": {"int_uniform": [8, 10]},
        "optimizer.name": {"choice": ["adam", "sgd"]}})"));
    REQUIRE(space.dimensions.size() == 4);
    std::size_t below_1e3 = 0, ints[3] = {0, 0, 0}, adam = 0;
    const std::size_t n = 3000;
    for (std::size_t i = 0; i < n; ++i) {
        const TrialParams p = space.sample(11, i);
        REQUIRE(p.size() == 4);
        for (const auto& [path, v] : p) {
            if (path == "optimizer.lr") {
                REQUIRE(v.get<double>() >= 1e-4);
                REQUIRE(v.get<double>() < 1e-1);
                below_1e3 += v.get<double>() < 1e-3;
            } else if (path == "model.dropout") {
                REQUIRE(v.get<double>() >= 0.1);
                REQUIRE(v.get<double>() < 0.5);
            } else if (path == "batch_size") {
                REQUIRE(v.is_number_integer());
                REQUIRE(v.get<int>() >= 8);
                REQUIRE(v.get<int>() <= 10);
                ++ints[v.get<int>() - 8];
            } else {
                adam += v == "adam";
            }
        }
    }
    // One decade of three: a third of the draws (binomial sd ~ 26).
    CHECK(std::abs(static_cast<double>(below_1e3) - n / 3.0) < 130);
    for (std::size_t c : ints) CHECK(std::abs(static_cast<double>(c) - n / 3.0) < 130);
    CHECK(std::abs(static_cast<double>(adam) - n / 2.0) < 150);
}

TEST_CASE("search_space: trial i depends only on (seed, i)") {
    const SearchSpace space = SearchSpace::from_json({{"optimizer.lr", {{"log_uniform", {1e-4, 1e-1}}}}});
    CHECK(space.sample(5, 7) == space.sample(5, 7));
    CHECK(space.sample(5, 7) != space.sample(5, 8));
    CHECK(space.sample(5, 7) != space.sample(6, 7));
}

TEST_CASE("search_space: bad entries are errors naming the key") {
    auto parse = [](const char* text) { return SearchSpace::from_json(nlohmann::json::parse(text)); };
    CHECK_THROWS_WITH(parse(R"({"optimizer.lr": {"log_uniform": [0, 1]}})"), Contains("'optimizer.lr'") && Contains("low > 0"));
    CHECK_THROWS_WITH(parse(R"({"optimizer.lr": {"uniform": [1, 1]}})"), Contains("is empty"));
    CHECK_THROWS_WITH(parse(R"({"optimizer.lr": {"gaussian": [0, 1]}})"), Contains("unknown distribution 'gaussian'"));
    CHECK_THROWS_WITH(parse(R"({"batch_size": {"int_uniform": [1.5, 4]}})"), Contains("integer bounds"));
    CHECK_THROWS_WITH(parse(R"({"optimizer.name": {"choice": []}})"), Contains("non-empty list"));
    CHECK_THROWS_WITH(parse(R"({"optimizer.lr": [1, 2]})"), Contains("'optimizer.lr'"));
    CHECK_THROWS_WITH(parse(R"({})"), Contains("non-empty"));
}

TEST_CASE("search_space: apply_params sets nested keys, replaces sections first, names unknown keys") {
    const nlohmann::json config = {{"optimizer", {{"name", "adam"}, {"lr", 0.001}, {"betas", {0.9, 0.999}}}},
                                   {"epochs", 20}};
    const nlohmann::json a = apply_params(config, {{"optimizer.lr", 0.01}, {"epochs", 3}});
    CHECK(a["optimizer"]["lr"] == 0.01);
    CHECK(a["optimizer"]["name"] == "adam");
    CHECK(a["epochs"] == 3);
    // The section is replaced before the key inside it is set, whatever the order given.
    const nlohmann::json b = apply_params(config, {{"optimizer.lr", 0.5}, {"optimizer", {{"name", "sgd"}, {"lr", 0.1}}}});
    CHECK(b["optimizer"] == nlohmann::json({{"name", "sgd"}, {"lr", 0.5}}));
    CHECK_THROWS_WITH(apply_params(config, {{"optimizer.lrr", 1}}),
                      Contains("'optimizer.lrr'") && Contains("no key 'lrr' in 'optimizer'") && Contains("betas, lr, name"));
}

TEST_CASE("sweep: trial_config checks each sampled config through TrainConfig and the model") {
    SweepOptions o;
    o.base = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"data", {{"path", "corpus"}}}});
    o.base.resolve();
    o.metric = "pr_auc_macro";
    o.max_minutes = 1.5;
    const TrainConfig c = trial_config(o, {{"optimizer.lr", 0.02}, {"model.dropout", 0.25}}, 0);
    CHECK(c.optimizer.lr() == Approx(0.02));
    CHECK(c.model.options["dropout"] == 0.25);
    CHECK(c.evaluation.metric == "pr_auc_macro");
    CHECK(c.max_minutes == 1.5);
    CHECK_THROWS_WITH(trial_config(o, {{"model.dropout", 1.5}}, 2), Contains("sweep trial 3") && Contains("dropout"));
    CHECK_THROWS_WITH(trial_config(o, {{"epochs", 0}}, 0), Contains("epochs"));
}
