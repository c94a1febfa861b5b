// Tests nn/optim/factory: every name builds its class with its defaults, parameter groups for fine-tuning,
// and unknown names are named. (Trajectories through a parsed config: tests/data/train/test_train_config.cpp.)
#include "nn/optim/factory.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

using namespace mtag;
using namespace mtag::nn;

TEST_CASE("optimizer factory: every name builds, with the variants' defaults", "[optim][factory]") {
    Parameter p("p", {3});
    for (const std::string& name : optimizer_names()) {
        INFO(name);
        const OptimizerConfig c = OptimizerConfig::named(name);
        auto opt = make_optimizer(c, {&p});
        CHECK(opt->lr() == Approx(c.lr()));
    }
    CHECK(OptimizerConfig::named("momentum").sgd.momentum == 0.9);
    CHECK(OptimizerConfig::named("nesterov").sgd.nesterov);
    CHECK(OptimizerConfig::named("amsgrad").adam.amsgrad);
    CHECK(make_optimizer(OptimizerConfig::named("amsgrad"), {&p})->kind() == "adam");
    CHECK(make_optimizer(OptimizerConfig::named("rmsprop"), {&p})->kind() == "rmsprop");
    CHECK(OptimizerConfig::named("adamw").weight_decay() == Approx(1e-2));  // torch AdamW's default
    CHECK_THROWS_WITH(OptimizerConfig::named("lbfgs"), Catch::Contains("'lbfgs'") && Catch::Contains("adabelief"));
}

TEST_CASE("optimizer factory: pretrained parameters train at lr * multiplier", "[optim][factory]") {
    Parameter fresh("fresh", {2}), loaded("loaded", {2});
    OptimizerConfig c = OptimizerConfig::named("sgd");
    c.set_lr(0.1);
    c.pretrained_lr_multiplier = 0.25;
    auto opt = make_optimizer(c, {&fresh}, {&loaded});
    REQUIRE(opt->group_count() == 2);
    CHECK(opt->group_lr(0) == Approx(0.025));
    CHECK(opt->group_lr(1) == Approx(0.1));
    CHECK_THROWS_WITH(make_optimizer(c, std::vector<Parameter*>{}), Catch::Contains("no trainable parameters"));
    c.set_lr(0);
    CHECK_THROWS_WITH(make_optimizer(c, {&fresh}), Catch::Contains("'lr'"));
}
