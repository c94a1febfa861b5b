// Tests nn/schedule/factory: every name builds, the run-length defaults, warm-up wrapping, and
// reduce-on-plateau's mode following the monitored metric.
#include "nn/schedule/factory.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>

using namespace mtag;
using namespace mtag::nn;

TEST_CASE("schedule factory: every name builds, constant needs no object", "[schedule][factory]") {
    const ScheduleContext x{.lr = 0.1, .epochs = 10, .batches_per_epoch = 5};
    for (const std::string& name : schedule_names()) {
        INFO(name);
        auto s = make_schedule(ScheduleConfig::named(name), x);
        if (name == "constant") {
            CHECK(s == nullptr);
        } else {
            REQUIRE(s != nullptr);
            CHECK(s->kind() == name);
        }
    }
    CHECK(effective_unit(ScheduleConfig::named("cyclic")) == ScheduleUnit::batch);
    CHECK(effective_unit(ScheduleConfig::named("cosine")) == ScheduleUnit::epoch);
    ScheduleConfig plateau = ScheduleConfig::named("reduce_on_plateau");
    plateau.unit = ScheduleUnit::batch;
    CHECK(effective_unit(plateau) == ScheduleUnit::epoch);  // it needs a metric
    CHECK_THROWS_WITH(ScheduleConfig::named("warm"), Catch::Contains("'warm'") && Catch::Contains("one_cycle"));
}

TEST_CASE("schedule factory: lengths of 0 mean the run, warm-up wraps any schedule", "[schedule][factory]") {
    const ScheduleContext x{.lr = 0.1, .epochs = 4, .batches_per_epoch = 5};
    ScheduleConfig cos = ScheduleConfig::named("cosine");
    cos.unit = ScheduleUnit::batch;
    auto s = make_schedule(cos, x);
    for (int i = 0; i < 10; ++i) s->step();
    CHECK(s->lr() == Approx(0.05));  // half of the run's 20 steps: half the rate
    ScheduleConfig one = ScheduleConfig::named("one_cycle");
    auto o = make_schedule(one, x);
    CHECK(o->lr() == Approx(0.1 / 25));  // max_lr = the optimizer's rate
    for (int i = 0; i < 30; ++i) o->step();
    CHECK(o->lr() == Approx(0.1 / 25 / 1e4));  // past the end: the final rate, not beyond
    ScheduleConfig warm = ScheduleConfig::named("constant");
    warm.warmup.warmup_steps = 2;
    auto w = make_schedule(warm, x);
    REQUIRE(w != nullptr);
    CHECK(w->kind() == "warmup");
    CHECK(w->lr() == Approx(0.1 / 3));
}

TEST_CASE("schedule factory: reduce_on_plateau's mode follows the monitored metric", "[schedule][factory]") {
    ScheduleConfig c = ScheduleConfig::named("reduce_on_plateau");
    c.reduce_on_plateau.patience = 0;
    auto for_auc = make_schedule(c, {.lr = 0.1, .monitor = MonitorMode::max});
    auto for_loss = make_schedule(c, {.lr = 0.1, .monitor = MonitorMode::min});
    for (double v : {0.5, 0.6}) {  // rising: better for AUC, worse for a loss
        for_auc->step(v);
        for_loss->step(v);
    }
    CHECK(for_auc->lr() == Approx(0.1));
    CHECK(for_loss->lr() == Approx(0.01));
    c.plateau_mode = PlateauMode::min;  // explicit mode wins
    auto forced = make_schedule(c, {.lr = 0.1, .monitor = MonitorMode::max});
    forced->step(0.5);
    forced->step(0.6);
    CHECK(forced->lr() == Approx(0.01));
}
