// nn/schedule/* against torch.optim.lr_scheduler sequences (fixture from scripts/make_train_fixtures.py).
#include "nn/schedule/cosine.hpp"
#include "nn/schedule/cyclic.hpp"
#include "nn/schedule/decay.hpp"
#include "nn/schedule/plateau.hpp"
#include "nn/schedule/warmup.hpp"

#include "dsp/error.hpp"
#include "../train_fixture.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <map>

using namespace mtag;
using namespace mtag::nn;

namespace {

// The same options the fixture script uses, case by case.
std::unique_ptr<LrSchedule> make(const std::string& name) {
    if (name == "constant") return std::make_unique<ConstantLr>(ConstantLrOptions{.lr = 0.01});
    if (name == "step") return std::make_unique<StepLr>(StepLrOptions{.lr = 0.1, .step_size = 7, .gamma = 0.5});
    if (name == "multi_step")
        return std::make_unique<MultiStepLr>(MultiStepLrOptions{.lr = 0.1, .milestones = {3, 10, 25}, .gamma = 0.3});
    if (name == "exponential") return std::make_unique<ExponentialLr>(ExponentialLrOptions{.lr = 0.1, .gamma = 0.9});
    if (name == "exponential_decay")
        return std::make_unique<ExponentialDecay>(ExponentialDecayOptions{.lr = 0.1, .k = 0.15});
    if (name == "inverse_time") return std::make_unique<InverseTimeDecay>(InverseTimeDecayOptions{.lr = 0.1, .k = 0.3});
    if (name == "cosine")
        return std::make_unique<CosineAnnealing>(CosineAnnealingOptions{.lr = 0.1, .t_max = 15, .eta_min = 0.001});
    if (name == "cosine_warm_restarts")
        return std::make_unique<CosineWarmRestarts>(
            CosineWarmRestartsOptions{.lr = 0.1, .t_0 = 4, .t_mult = 2, .eta_min = 0.002});
    if (name == "cyclic_triangular")
        return std::make_unique<CyclicLr>(CyclicLrOptions{
            .base_lr = 0.01, .max_lr = 0.1, .step_size_up = 4, .step_size_down = 6, .mode = CyclicMode::triangular});
    if (name == "cyclic_triangular2")
        return std::make_unique<CyclicLr>(
            CyclicLrOptions{.base_lr = 0.01, .max_lr = 0.1, .step_size_up = 5, .mode = CyclicMode::triangular2});
    if (name == "cyclic_exp_range")
        return std::make_unique<CyclicLr>(CyclicLrOptions{
            .base_lr = 0.01, .max_lr = 0.1, .step_size_up = 3, .mode = CyclicMode::exp_range, .gamma = 0.97});
    if (name == "one_cycle") return std::make_unique<OneCycleLr>(OneCycleLrOptions{.max_lr = 0.2, .total_steps = 40});
    if (name == "one_cycle_linear_3phase")
        return std::make_unique<OneCycleLr>(OneCycleLrOptions{.max_lr = 0.2,
                                                              .total_steps = 40,
                                                              .pct_start = 0.25,
                                                              .anneal_strategy = AnnealStrategy::linear,
                                                              .div_factor = 10,
                                                              .final_div_factor = 100,
                                                              .three_phase = true});
    if (name == "warmup_cosine")
        return std::make_unique<Warmup>(WarmupOptions{.warmup_steps = 5, .start_factor = 0.1},
                                        std::make_unique<CosineAnnealing>(CosineAnnealingOptions{.lr = 0.1, .t_max = 20}));
    if (name == "warmup_step")
        return std::make_unique<Warmup>(
            WarmupOptions{.warmup_steps = 3, .start_factor = 0.25},
            std::make_unique<StepLr>(StepLrOptions{.lr = 0.05, .step_size = 4, .gamma = 0.5}));
    if (name == "plateau_min")
        return std::make_unique<ReduceOnPlateau>(ReduceOnPlateauOptions{
            .lr = 0.1, .mode = MonitorMode::min, .factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.004});
    if (name == "plateau_max_abs")
        return std::make_unique<ReduceOnPlateau>(ReduceOnPlateauOptions{.lr = 0.1,
                                                                        .mode = MonitorMode::max,
                                                                        .factor = 0.3,
                                                                        .patience = 3,
                                                                        .threshold = 0.005,
                                                                        .threshold_mode = ThresholdMode::abs});
    return nullptr;
}

}  // namespace

TEST_CASE("lr_schedule: every schedule's per-step lr equals torch", "[schedule]") {
    const auto fx = test::load_train_fixture("schedules.json");
    const std::int64_t n = fx["steps"];
    for (const auto& [name, lrs] : fx["lrs"].items()) {
        INFO("schedule " << name);
        auto s = make(name);
        REQUIRE(s);
        const bool monitored = fx.contains(name + "_metric");
        for (std::int64_t t = 0; t < n; ++t) {
            INFO("step " << t);
            CHECK(test::close(s->lr(), lrs[t].get<double>(), 1e-9, 1e-15));
            if (monitored) s->step(fx[name + "_metric"][t].get<double>());
            else s->step();
        }
    }
}

TEST_CASE("lr_schedule: plateau fixture actually reduces, state round trip resumes the sequence", "[schedule]") {
    const auto fx = test::load_train_fixture("schedules.json");
    const auto lrs = fx["lrs"]["plateau_min"].get<std::vector<double>>();
    CHECK(lrs.back() < lrs.front() * 0.2);  // the fixture exercises reductions, cooldown and min_lr
    for (const std::string name : {"plateau_min", "warmup_cosine", "cosine_warm_restarts"}) {
        INFO(name);
        auto a = make(name);
        const auto metric = fx.contains(name + "_metric") ? fx[name + "_metric"] : nlohmann::json();
        auto advance = [&](LrSchedule& s, int t) { metric.is_null() ? s.step() : s.step(metric[t].get<double>()); };
        for (int t = 0; t < 17; ++t) advance(*a, t);
        const std::string saved = a->state().dump();
        auto b = make(name);
        b->load_state(nlohmann::json::parse(saved));
        for (int t = 17; t < 40; ++t) {
            CHECK(a->lr() == b->lr());
            advance(*a, t);
            advance(*b, t);
        }
    }
}

TEST_CASE("lr_schedule: options are validated, wrong state kind is rejected", "[schedule]") {
    CHECK_THROWS_AS(StepLr(StepLrOptions{.lr = 0.1, .step_size = 0}), Error);
    CHECK_THROWS_AS(ReduceOnPlateau(ReduceOnPlateauOptions{.factor = 1.0}), Error);
    CHECK_THROWS_AS(MultiStepLr(MultiStepLrOptions{.milestones = {5, 3}}), Error);
    CHECK_THROWS_AS(OneCycleLr(OneCycleLrOptions{.pct_start = 1.5}), Error);
    CHECK_THROWS_AS(ReduceOnPlateau(ReduceOnPlateauOptions{}).step(), Error);
    StepLr s(StepLrOptions{});
    CHECK_THROWS_AS(s.load_state(ConstantLr(ConstantLrOptions{}).state()), Error);
}
