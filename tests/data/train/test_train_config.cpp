// Tests data/train/train_config: preset recipes (phases included), overrides, JSON round trips, and that
// every section rejects an unknown key by name.
#include "data/train/train_config.hpp"
#include "dsp/error.hpp"
#include "nn/train/training_state.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <set>

using namespace mtag;
using namespace mtag::data;

TEST_CASE("train config: the preset's recipe fills what is missing", "[train_config]") {
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "short_chunk_cnn"}}}, {"data", {{"path", "x"}}}});
    CHECK(c.batch_size == 16);  // Won et al. 2020 recipe
    c.resolve();
    CHECK(c.features.features().n_mels == 128);
    CHECK(c.features.sample_rate() == 16000);
    CHECK(c.optimizer.name == "adam");
    CHECK(c.optimizer.lr() == Approx(1e-4));
    CHECK(c.optimizer.weight_decay() == Approx(1e-4));
    CHECK(c.schedule.name == "constant");
    CHECK(c.resolved_metric(false) == "roc_auc_macro");
    CHECK(c.resolved_metric(true) == "accuracy");
    // Won et al.'s later phases: SGD after 80 epochs, then 1e-4 and 1e-5 after 20 epochs each.
    REQUIRE(c.phases.size() == 3);
    CHECK(c.phases[0].trigger == nn::PhaseTrigger::epochs);
    CHECK(c.phases[0].after == 80);
    REQUIRE(c.phases[0].optimizer);
    CHECK(c.phases[0].optimizer->name == "nesterov");
    CHECK(c.phases[0].optimizer->lr() == Approx(1e-3));
    CHECK(c.phases[0].optimizer->sgd.momentum == Approx(0.9));
    CHECK(c.phases[0].optimizer->sgd.weight_decay == Approx(1e-4));
    CHECK(c.phases[1].lr == Approx(1e-4));
    CHECK(c.phases[2].lr == Approx(1e-5));
    CHECK(c.early_stopping.patience == 0);  // 200 epochs, no early stopping

    TrainConfig w = TrainConfig::example("sample_cnn");
    CHECK(w.is_waveform());
    CHECK(w.features.sample_rate() == 22050);
    CHECK(w.normalization == NormalizationKind::per_sample);
    CHECK(w.optimizer.name == "nesterov");
    CHECK(w.optimizer.sgd.nesterov);
    // Keras SGD decay 1e-6 per step, then lr x 0.2 on each validation plateau of 3 epochs (Lee et al. 2017).
    CHECK(w.schedule.name == "inverse_time");
    CHECK(w.schedule.unit == nn::ScheduleUnit::batch);
    CHECK(w.schedule.inverse_time.k == Approx(1e-6));
    REQUIRE(w.phases.size() == 4);
    CHECK(w.phases[0].trigger == nn::PhaseTrigger::plateau);
    CHECK(w.phases[0].after == 3);
    CHECK(w.phases[3].optimizer->lr() == Approx(1.6e-5));
    CHECK(w.early_stopping.patience == 3);
}

TEST_CASE("train config: overlays on the recipe and JSON round trips", "[train_config]") {
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "short_chunk_cnn"}}}, {"optimizer", {{"lr", 3e-4}}}});
    CHECK(c.optimizer.name == "adam");            // the recipe's optimizer, its rate changed
    CHECK(c.optimizer.weight_decay() == Approx(1e-4));
    CHECK(c.optimizer.lr() == Approx(3e-4));
    c = TrainConfig::from_json({{"model", {{"preset", "short_chunk_cnn"}}}, {"optimizer", {{"name", "rmsprop"}}}});
    CHECK(c.optimizer.rmsprop.lr == Approx(1e-2));  // another optimizer starts from its own defaults
    CHECK(c.optimizer.rmsprop.alpha == Approx(0.99));
    c = TrainConfig::from_json({{"model", {{"preset", "short_chunk_cnn"}}}, {"phases", nlohmann::json::array()}});
    CHECK(c.phases.empty());
    c = TrainConfig::from_json({{"model", "cnn1d"}});
    CHECK(c.preset() == "cnn1d");

    for (const std::string preset : {"cnn1d", "fcn5", "short_chunk_cnn", "sample_cnn", "sample_cnn_se"}) {
        TrainConfig e = TrainConfig::example(preset);
        e.epochs = 7;
        e.max_minutes = 15;
        e.sync_batchnorm = true;
        const nlohmann::json j = e.to_json();
        TrainConfig back = TrainConfig::from_json(j);
        back.resolve();
        CHECK(back.to_json() == j);
        CHECK(back.epochs == 7);
        CHECK(back.sync_batchnorm);
    }
    const nlohmann::json j = TrainConfig::example("cnn1d").to_json();
    for (const char* key : {"data", "features", "model", "augmentation", "optimizer", "schedule", "phases", "batch_size",
                            "epochs", "chunking", "evaluation", "early_stopping", "reload_best", "normalization", "task",
                            "nan_policy", "max_grad_norm", "seed", "threads", "max_minutes", "sync_batchnorm"})
        CHECK(j.contains(key));
    CHECK_FALSE(TrainConfig::example("cnn1d").sync_batchnorm);
}

TEST_CASE("train config: ref is a number or max, and older numeric strings are read", "[train_config]") {
    nlohmann::json j = {{"model", {{"preset", "fcn5"}}}};
    j["features"] = TrainConfig::example("fcn5").features.to_json();
    j["features"]["ref"] = "1.0";
    TrainConfig c = TrainConfig::from_json(j);
    CHECK_FALSE(c.features.features().ref.is_max());
    CHECK(c.features.features().ref.value == 1.0);
    CHECK(c.to_json()["features"]["ref"] == 1.0);
    j["features"]["ref"] = "max";
    c = TrainConfig::from_json(j);
    CHECK(c.features.features().ref.is_max());
    CHECK(c.to_json()["features"]["ref"] == "max");
    j["features"]["ref"] = "loud";
    CHECK_THROWS_WITH(TrainConfig::from_json(j), Catch::Contains("'ref'") && Catch::Contains("loud"));
}

TEST_CASE("train config: an unknown key in any section is named", "[train_config]") {
    const nlohmann::json base = {{"model", {{"preset", "cnn1d"}}}};
    auto with = [&](const nlohmann::json::json_pointer& at, const nlohmann::json& value) {
        nlohmann::json j = base;
        j[at] = value;
        return j;
    };
    auto rejects = [](const nlohmann::json& j) {
        INFO(j.dump());
        CHECK_THROWS_WITH(TrainConfig::from_json(j), Catch::Contains("'bogus'") && Catch::Contains("unknown key"));
    };
    rejects(with(nlohmann::json::json_pointer("/bogus"), 1));
    for (const char* section :
         {"data", "chunking", "evaluation", "early_stopping", "reload_best", "model", "regularization", "whitening"})
        rejects(with(nlohmann::json::json_pointer(std::string("/") + section + "/bogus"), 1));
    rejects(with(nlohmann::json::json_pointer("/features"), {{"kind", "logmel"}, {"bogus", 1}}));
    rejects(with(nlohmann::json::json_pointer("/features"), {{"kind", "waveform"}, {"sample_rate", 8000}, {"bogus", 1}}));
    for (const std::string& name : nn::optimizer_names())
        rejects(with(nlohmann::json::json_pointer("/optimizer"), {{"name", name}, {"bogus", 1}}));
    for (const std::string& name : nn::schedule_names())
        rejects(with(nlohmann::json::json_pointer("/schedule"), {{"name", name}, {"bogus", 1}}));
    // Keys of one class are unknown to another: momentum is not Adam's.
    CHECK_THROWS_WITH(TrainConfig::from_json(with(nlohmann::json::json_pointer("/optimizer"), {{"name", "adam"}, {"momentum", 0.9}})),
                      Catch::Contains("'momentum'"));
    rejects(with(nlohmann::json::json_pointer("/augmentation"), {{"transforms", nlohmann::json::array()}, {"bogus", 1}}));
    rejects(with(nlohmann::json::json_pointer("/augmentation"), {{"transforms", {{{"type", "gain"}, {"bogus", 1}}}}}));
    rejects(with(nlohmann::json::json_pointer("/regularization/elastic_net"), {{"alpha", 0.1}, {"bogus", 1}}));
    rejects(with(nlohmann::json::json_pointer("/phases"), {{{"trigger", "epochs"}, {"bogus", 1}}}));
    rejects(with(nlohmann::json::json_pointer("/phases"), {{{"optimizer", {{"name", "sgd"}, {"bogus", 1}}}}}));
    rejects(with(nlohmann::json::json_pointer("/phases"), {{{"schedule", {{"name", "step"}, {"bogus", 1}}}}}));
}

TEST_CASE("train config: wrong values are named", "[train_config]") {
    CHECK_THROWS_WITH(TrainConfig::from_json({{"evaluation", {{"metric", 1}}}}), Catch::Contains("metric"));
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"evaluation", {{"metric", "f1"}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("f1"));
    c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"features", {{"kind", "logmel"}, {"n_mels", 64}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("64 bins") && Catch::Contains("n_mels"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"model", {{"preset", "cnnX"}}}}), Catch::Contains("cnnX"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"optimizer", {{"name", "lbfgs"}}}}), Catch::Contains("lbfgs"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"schedule", {{"name", "warm"}}}}), Catch::Contains("warm"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"optimizer", {{"betas", {0.9}}}}}), Catch::Contains("'betas'"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"nan_policy", "ignore"}}), Catch::Contains("'nan_policy'") && Catch::Contains("skip"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"schedule", {{"name", "cyclic"}, {"mode", "sine"}}}}),
                      Catch::Contains("'mode'") && Catch::Contains("exp_range"));
    c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"optimizer", {{"name", "adam"}, {"betas", {0.9, 1.5}}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("beta"));
    c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}}, {"phases", {{{"after", 0}}}}});
    CHECK_THROWS_WITH(c.resolve(), Catch::Contains("phases[0].after"));
    // Integers out of the member's range are errors, not undefined casts (the train_config fuzzer's finding).
    CHECK_THROWS_WITH(TrainConfig::from_json({{"batch_size", 1e300}}), Catch::Contains("'batch_size'"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"batch_size", -1}}), Catch::Contains("'batch_size'"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"threads", 4294967296.0}}), Catch::Contains("'threads'"));
    CHECK_THROWS_WITH(TrainConfig::from_json({{"threads", std::uint64_t{1} << 40}}), Catch::Contains("'threads'"));
    CHECK(TrainConfig::from_json({{"batch_size", 8.0}}).batch_size == 8);
}

// ---- every optimizer and schedule name, through the config, against the library object built directly ----

namespace {

struct Run {
    std::vector<double> lrs;     // the rate of every step
    std::vector<float> values;   // the parameters at the end
};

// Trains two parameters for 4 epochs of 3 steps towards a target (gradient = value - target, the loss of
// each epoch fed back as val_loss, plateauing after epoch 1).
Run simulate(std::unique_ptr<nn::Optimizer> (*make)(std::vector<nn::Parameter*>, const void*), const void* arg,
             std::unique_ptr<nn::LrSchedule> (*make_schedule)(const void*, double), const void* sarg,
             nn::ScheduleUnit unit) {
    nn::Parameter a("a", {3}), b("b.weight", {2});
    const float init[5] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f};
    for (int i = 0; i < 3; ++i) a.data()[i] = init[i];
    for (int i = 0; i < 2; ++i) b.data()[i] = init[3 + i];
    auto opt = make({&a, &b}, arg);
    auto sched = make_schedule(sarg, opt->lr());
    nn::TrainingStateOptions o;
    o.schedule_unit = unit;
    nn::TrainingState state(std::move(opt), std::move(sched), o);
    Run r;
    const double losses[4] = {1.0, 0.5, 0.6, 0.7};
    for (int e = 0; e < 4; ++e) {
        for (int s = 0; s < 3; ++s) {
            for (int i = 0; i < 3; ++i) a.grad_data()[i] = a.data()[i] - 0.1f * static_cast<float>(i);
            for (int i = 0; i < 2; ++i) b.grad_data()[i] = b.data()[i] + 0.3f;
            r.lrs.push_back(state.optimizer().lr());
            state.optimizer_step();
        }
        state.end_epoch({{"val_loss", losses[e]}});
    }
    for (int i = 0; i < 3; ++i) r.values.push_back(a.data()[i]);
    for (int i = 0; i < 2; ++i) r.values.push_back(b.data()[i]);
    return r;
}

TrainConfig parse(const nlohmann::json& section_key_value) {
    nlohmann::json j = section_key_value;
    j["model"] = {{"preset", "cnn1d"}};
    return TrainConfig::from_json(j);
}

}  // namespace

TEST_CASE("train config: every optimizer name trains as the library object built directly", "[train_config]") {
    using namespace nn;
    const std::vector<std::pair<nlohmann::json, std::function<std::unique_ptr<Optimizer>(std::vector<Parameter*>)>>> cases = {
        {{{"name", "sgd"}, {"lr", 0.1}, {"momentum", 0.5}, {"dampening", 0.1}, {"weight_decay", 0.01}},
         [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.1, .momentum = 0.5, .dampening = 0.1, .weight_decay = 0.01}); }},
        {{{"name", "momentum"}, {"lr", 0.05}},
         [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.05, .momentum = 0.9}); }},
        {{{"name", "nesterov"}, {"lr", 0.05}, {"momentum", 0.8}, {"decay_bias_and_norm", true}, {"weight_decay", 0.1}},
         [](auto p) {
             return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.05, .momentum = 0.8, .nesterov = true, .weight_decay = 0.1,
                                                        .decay_bias_and_norm = true});
         }},
        {{{"name", "adagrad"}, {"lr", 0.1}, {"lr_decay", 0.01}, {"initial_accumulator_value", 0.1}, {"eps", 1e-9}},
         [](auto p) {
             return std::make_unique<Adagrad>(p, AdagradOptions{.lr = 0.1, .lr_decay = 0.01, .initial_accumulator_value = 0.1, .eps = 1e-9});
         }},
        {{{"name", "rmsprop"}, {"lr", 0.01}, {"alpha", 0.9}, {"momentum", 0.5}, {"centered", true}},
         [](auto p) { return std::make_unique<Rmsprop>(p, RmspropOptions{.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true}); }},
        {{{"name", "adam"}, {"lr", 0.01}, {"betas", {0.8, 0.99}}, {"eps", 1e-7}, {"weight_decay", 0.1}, {"decay_mode", "l1"}},
         [](auto p) {
             return std::make_unique<Adam>(p, AdamOptions{.lr = 0.01, .betas = {0.8, 0.99}, .eps = 1e-7, .weight_decay = 0.1,
                                                          .decay_mode = WeightDecayMode::l1});
         }},
        {{{"name", "amsgrad"}, {"lr", 0.01}},
         [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.01, .amsgrad = true}); }},
        {{{"name", "adamw"}, {"lr", 0.01}, {"weight_decay", 0.05}},
         [](auto p) { return std::make_unique<AdamW>(p, AdamWOptions{.lr = 0.01, .weight_decay = 0.05}); }},
        {{{"name", "radam"}, {"lr", 0.01}, {"betas", {0.85, 0.995}}},
         [](auto p) { return std::make_unique<RAdam>(p, RAdamOptions{.lr = 0.01, .betas = {0.85, 0.995}}); }},
        {{{"name", "diffgrad"}, {"lr", 0.01}, {"weight_decay", 0.01}, {"decay_mode", "decoupled"}},
         [](auto p) {
             return std::make_unique<DiffGrad>(p, DiffGradOptions{.lr = 0.01, .weight_decay = 0.01, .decay_mode = WeightDecayMode::decoupled});
         }},
        {{{"name", "adabelief"}, {"lr", 0.01}, {"eps", 1e-12}},
         [](auto p) { return std::make_unique<AdaBelief>(p, AdaBeliefOptions{.lr = 0.01, .eps = 1e-12}); }},
    };
    std::set<std::string> covered;
    for (const auto& [json, direct] : cases) {
        const std::string name = json["name"];
        INFO(name);
        covered.insert(name);
        const TrainConfig c = parse({{"optimizer", json}});
        const auto via_config = [](std::vector<Parameter*> p, const void* cfg) {
            return make_optimizer(*static_cast<const OptimizerConfig*>(cfg), std::move(p));
        };
        const auto via_direct = [](std::vector<Parameter*> p, const void* f) {
            return (*static_cast<const std::function<std::unique_ptr<Optimizer>(std::vector<Parameter*>)>*>(f))(std::move(p));
        };
        const auto no_schedule = [](const void*, double) { return std::unique_ptr<LrSchedule>(); };
        const Run a = simulate(via_config, &c.optimizer, no_schedule, nullptr, ScheduleUnit::epoch);
        const Run b = simulate(via_direct, &direct, no_schedule, nullptr, ScheduleUnit::epoch);
        CHECK(a.lrs == b.lrs);
        CHECK(a.values == b.values);
        CHECK(a.values[0] != 0.5f);  // it trained
    }
    const std::vector<std::string> names = optimizer_names();
    CHECK(covered == std::set<std::string>(names.begin(), names.end()));
}

TEST_CASE("train config: every schedule name gives the rates of the library object built directly", "[train_config]") {
    using namespace nn;
    using Direct = std::function<std::unique_ptr<LrSchedule>(double lr)>;
    const std::int64_t epochs = 4, batches = 3;
    const std::vector<std::pair<nlohmann::json, Direct>> cases = {
        {{{"name", "constant"}}, [](double) { return std::unique_ptr<LrSchedule>(); }},
        {{{"name", "step"}, {"step_size", 2}, {"gamma", 0.5}},
         [](double lr) { return std::make_unique<StepLr>(StepLrOptions{.lr = lr, .step_size = 2, .gamma = 0.5}); }},
        {{{"name", "multi_step"}, {"milestones", {1, 3}}, {"gamma", 0.3}},
         [](double lr) { return std::make_unique<MultiStepLr>(MultiStepLrOptions{.lr = lr, .milestones = {1, 3}, .gamma = 0.3}); }},
        {{{"name", "exponential"}, {"gamma", 0.9}, {"unit", "batch"}},
         [](double lr) { return std::make_unique<ExponentialLr>(ExponentialLrOptions{.lr = lr, .gamma = 0.9}); }},
        {{{"name", "exponential_decay"}, {"k", 0.2}},
         [](double lr) { return std::make_unique<ExponentialDecay>(ExponentialDecayOptions{.lr = lr, .k = 0.2}); }},
        {{{"name", "inverse_time"}, {"k", 0.5}, {"unit", "batch"}},
         [](double lr) { return std::make_unique<InverseTimeDecay>(InverseTimeDecayOptions{.lr = lr, .k = 0.5}); }},
        {{{"name", "cosine"}, {"eta_min", 0.01}},  // t_max 0: the whole run (4 epochs)
         [](double lr) { return std::make_unique<CosineAnnealing>(CosineAnnealingOptions{.lr = lr, .t_max = 4, .eta_min = 0.01}); }},
        {{{"name", "cosine_warm_restarts"}, {"t_0", 2}, {"t_mult", 2}, {"unit", "batch"}},
         [](double lr) { return std::make_unique<CosineWarmRestarts>(CosineWarmRestartsOptions{.lr = lr, .t_0 = 2, .t_mult = 2}); }},
        {{{"name", "cyclic"}, {"max_lr", 0.5}, {"step_size_up", 2}, {"mode", "triangular2"}},
         [](double lr) {
             return std::make_unique<CyclicLr>(CyclicLrOptions{.base_lr = lr, .max_lr = 0.5, .step_size_up = 2, .mode = CyclicMode::triangular2});
         }},
        {{{"name", "one_cycle"}, {"pct_start", 0.25}, {"anneal_strategy", "linear"}},  // max_lr: the optimizer's, 12 steps
         [](double lr) {
             return std::make_unique<OneCycleLr>(OneCycleLrOptions{.max_lr = lr, .total_steps = 12, .pct_start = 0.25,
                                                                   .anneal_strategy = AnnealStrategy::linear});
         }},
        {{{"name", "reduce_on_plateau"}, {"patience", 0}, {"factor", 0.5}},  // mode auto: val_loss is minimised
         [](double lr) {
             return std::make_unique<ReduceOnPlateau>(
                 ReduceOnPlateauOptions{.lr = lr, .mode = MonitorMode::min, .factor = 0.5, .patience = 0});
         }},
    };
    // Cycling schedules set momentum: SGD with momentum takes it.
    const OptimizerConfig sgd = [] {
        OptimizerConfig o = OptimizerConfig::named("momentum");
        o.sgd.lr = 0.1;
        return o;
    }();
    const auto make_sgd = [](std::vector<Parameter*> p, const void* cfg) {
        return make_optimizer(*static_cast<const OptimizerConfig*>(cfg), std::move(p));
    };
    std::set<std::string> covered;
    for (int warm = 0; warm < 2; ++warm)
        for (const auto& [json, direct] : cases) {
            nlohmann::json section = json;
            if (warm) section["warmup_steps"] = 2;
            const std::string name = json["name"];
            INFO(section.dump());
            covered.insert(name);
            const TrainConfig c = parse({{"schedule", section}});
            struct Arg {
                ScheduleConfig config;
                std::int64_t epochs, batches;
            } arg{c.schedule, epochs, batches};
            const auto via_config = [](const void* p, double lr) {
                const Arg& a = *static_cast<const Arg*>(p);
                return make_schedule(a.config, {.lr = lr, .epochs = a.epochs, .batches_per_epoch = a.batches, .monitor = MonitorMode::min});
            };
            struct DirectArg {
                const Direct* make;
                bool warm;
            } darg{&direct, warm == 1};
            const auto via_direct = [](const void* p, double lr) {
                const DirectArg& d = *static_cast<const DirectArg*>(p);
                std::unique_ptr<LrSchedule> inner = (*d.make)(lr);
                if (!d.warm) return inner;
                if (!inner) inner = std::make_unique<ConstantLr>(ConstantLrOptions{.lr = lr});
                return std::unique_ptr<LrSchedule>(std::make_unique<Warmup>(WarmupOptions{.warmup_steps = 2}, std::move(inner)));
            };
            const ScheduleUnit unit = effective_unit(c.schedule);
            const Run a = simulate(make_sgd, &sgd, via_config, &arg, unit);
            const Run b = simulate(make_sgd, &sgd, via_direct, &darg, unit);
            CHECK(a.lrs == b.lrs);
            CHECK(a.values == b.values);
            if (name != "constant" || warm) CHECK(a.lrs.front() != a.lrs.back());  // the rate moved
        }
    const std::vector<std::string> names = schedule_names();
    CHECK(covered == std::set<std::string>(names.begin(), names.end()));
}

TEST_CASE("train config: regularization and whitening sections, and one penalty in one place", "[train_config]") {
    TrainConfig c = TrainConfig::from_json({{"model", {{"preset", "cnn1d"}}},
                                            {"normalization", "pca_whiten"},
                                            {"whitening", {{"method", "pca"}, {"eps", 1e-4}}},
                                            {"max_grad_norm", 2.0},
                                            {"regularization",
                                             {{"elastic_net", {{"alpha", 0.01}, {"l1_ratio", 0.25}}},
                                              {"max_norm", 3.0},
                                              {"clip_grad_value", 0.5},
                                              {"label_smoothing", 0.1}}}});
    c.resolve();
    CHECK(c.normalization == NormalizationKind::pca_whiten);
    CHECK(c.whitening.method == WhitenMethod::pca);
    const nn::RegularizationOptions o = c.regularization.options(c.max_grad_norm);
    CHECK(o.l1 == Approx(0.0025));
    CHECK(o.l2 == Approx(0.0075));
    CHECK(o.max_norm == 3.0);
    CHECK(o.clip_grad_norm == 2.0);
    CHECK(o.clip_grad_value == 0.5);
    CHECK(c.regularization.label_smoothing == 0.1);
    // The round trip keeps every key.
    const TrainConfig back = TrainConfig::from_json(c.to_json());
    CHECK(back.to_json() == c.to_json());
    auto fails = [](const nlohmann::json& j, const std::string& text) {
        INFO(j.dump());
        TrainConfig t = TrainConfig::from_json(j);
        CHECK_THROWS_WITH(t.resolve(), Catch::Contains(text));
    };
    const nlohmann::json model = {{"preset", "cnn1d"}};
    fails({{"model", model}, {"regularization", {{"l1", 0.1}}}, {"optimizer", {{"name", "sgd"}, {"weight_decay", 0.1}, {"decay_mode", "l1"}}}},
          "optimizer.weight_decay (decay_mode l1) and regularization.l1");
    fails({{"model", model}, {"regularization", {{"elastic_net", {{"alpha", 0.1}}}}}, {"optimizer", {{"name", "adam"}, {"weight_decay", 0.1}}}},
          "regularization.l2 (from elastic_net)");
    fails({{"model", model}, {"regularization", {{"l2", 0.1}, {"elastic_net", {{"alpha", 0.1}}}}}}, "not both");
    fails({{"model", model}, {"regularization", {{"label_smoothing", 1.5}}}}, "regularization.label_smoothing");
    fails({{"model", model}, {"regularization", {{"elastic_net", {{"alpha", 0.1}, {"l1_ratio", 2}}}}}}, "elastic_net.l1_ratio");
    fails({{"model", model}, {"whitening", {{"eps", 0}}}}, "whitening.eps");
    fails({{"model", {{"preset", "sample_cnn"}}}, {"normalization", "pca_whiten"}}, "waveform model has none");
    // Decoupled decay is the optimizer's, and goes with regularization.l2 without conflict.
    TrainConfig ok = TrainConfig::from_json({{"model", model}, {"regularization", {{"l2", 0.1}}},
                                             {"optimizer", {{"name", "adamw"}, {"weight_decay", 0.1}}}});
    CHECK_NOTHROW(ok.resolve());
}
