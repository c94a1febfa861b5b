// Tests data/report/diagnosis: overfitting, divergence, underfitting and a healthy run are told apart.
#include "data/report/diagnosis.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::data;

namespace {

plot::TrainingLog make_log(const std::vector<double>& train, const std::vector<double>& val, int best_epoch) {
    plot::TrainingLog log;
    for (std::size_t i = 0; i < train.size(); ++i)
        log.epochs.push_back({static_cast<int>(i + 1), 0, 1e-3, {{"train_loss", train[i]}, {"val_loss", val[i]}}, {}});
    log.best_epoch = best_epoch;
    return log;
}

bool has(const std::vector<report::Finding>& findings, const std::string& title, report::Severity severity) {
    for (const auto& f : findings)
        if (f.title == title && f.severity == severity) return true;
    return false;
}

}  // namespace

TEST_CASE("diagnosis: overfitting names the epoch and the gap", "[report]") {
    const auto f = report::diagnose(make_log({0.9, 0.6, 0.4, 0.3, 0.2, 0.1}, {0.8, 0.6, 0.5, 0.55, 0.65, 0.8}, 3));
    REQUIRE(has(f, "Overfitting", report::Severity::warning));
    for (const auto& x : f)
        if (x.title == "Overfitting") CHECK_THAT(x.detail, Catch::Contains("epoch 3") && Catch::Contains("gap val_loss - train_loss = 0.7"));
    CHECK_FALSE(has(f, "Divergence", report::Severity::warning));
}

TEST_CASE("diagnosis: divergence, from a NaN or an exploding loss", "[report]") {
    CHECK(has(report::diagnose(make_log({0.9, 0.7, NAN}, {0.8, 0.7, NAN}, 2)), "Divergence", report::Severity::warning));
    CHECK(has(report::diagnose(make_log({0.9, 0.5, 1.2, 3.0}, {0.8, 0.6, 1.5, 4.0}, 2)), "Divergence", report::Severity::warning));
}

TEST_CASE("diagnosis: a healthy run, an underfitting run, a run still improving", "[report]") {
    const auto healthy = report::diagnose(make_log({0.9, 0.6, 0.5, 0.45}, {0.8, 0.6, 0.55, 0.54}, 4));
    CHECK(has(healthy, "No divergence or overfitting found", report::Severity::ok));
    CHECK(has(healthy, "Still improving", report::Severity::note));
    CHECK(has(report::diagnose(make_log({0.70, 0.69, 0.69, 0.68}, {0.7, 0.7, 0.7, 0.7}, 1)), "Underfitting",
              report::Severity::note));
}
