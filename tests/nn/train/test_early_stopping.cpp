// nn/train/early_stopping: patience boundary, min_delta, modes, best-weight snapshot and state.
#include "nn/train/early_stopping.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag;
using namespace mtag::nn;

TEST_CASE("early_stopping: triggers exactly at the patience boundary", "[early_stopping]") {
    EarlyStopping es({.mode = MonitorMode::min, .patience = 3}, {});
    const double values[] = {1.0, 0.9, 0.95, 0.92, 0.91};
    const bool improved[] = {true, true, false, false, false};
    const bool stop[] = {false, false, false, false, true};
    for (int e = 0; e < 5; ++e) {
        INFO("epoch " << e);
        CHECK(es.update(values[e]) == improved[e]);
        CHECK(es.should_stop() == stop[e]);
    }
    CHECK(es.best() == 0.9);
    CHECK(es.best_epoch() == 1);
    CHECK(es.bad_epochs() == 3);
    // An improvement resets the count one epoch before the boundary.
    EarlyStopping again({.mode = MonitorMode::min, .patience = 2}, {});
    for (double v : {1.0, 1.1, 0.5, 0.6}) again.update(v);
    CHECK_FALSE(again.should_stop());
    again.update(0.7);
    CHECK(again.should_stop());
}

TEST_CASE("early_stopping: min_delta must be exceeded, max mode, NaN never improves", "[early_stopping]") {
    EarlyStopping es({.mode = MonitorMode::min, .patience = 5, .min_delta = 0.25}, {});
    CHECK(es.update(1.0));
    CHECK_FALSE(es.update(0.75));  // improves by exactly min_delta: not enough
    CHECK(es.update(0.5));
    EarlyStopping auc({.mode = MonitorMode::max, .patience = 1}, {});
    CHECK(auc.update(0.80));
    CHECK(auc.update(0.85));
    CHECK_FALSE(auc.update(std::nan("")));
    CHECK(auc.should_stop());
    CHECK_THROWS_AS(EarlyStopping({.patience = 0}, {}), Error);
}

TEST_CASE("early_stopping: keeps and restores the best weights, state round trip", "[early_stopping]") {
    Parameter w("w", Shape{3});
    EarlyStopping es({.mode = MonitorMode::max, .patience = 2}, {&w});
    w.value.fill(1.0f);
    es.update(0.7);
    w.value.fill(2.0f);
    es.update(0.9);  // best: w = 2
    w.value.fill(3.0f);
    es.update(0.8);
    es.restore_best();
    CHECK(w.value[0] == 2.0f);
    CHECK(w.value[2] == 2.0f);

    Parameter w2("w", Shape{3});
    EarlyStopping copy({.mode = MonitorMode::max, .patience = 2}, {&w2});
    copy.load_state(nlohmann::json::parse(es.state().dump()), es.best_weights());
    CHECK(copy.best() == 0.9);
    CHECK(copy.bad_epochs() == 1);
    CHECK_FALSE(copy.update(0.85));
    CHECK(copy.should_stop());
    copy.restore_best();
    CHECK(w2.value[1] == 2.0f);
    Parameter wrong("v", Shape{3});
    EarlyStopping other({.patience = 2}, {&wrong});
    CHECK_THROWS_AS(other.load_state(es.state(), es.best_weights()), Error);
}
