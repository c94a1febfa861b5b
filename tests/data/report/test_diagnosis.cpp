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
        if (x.title == "Overfitting") {
            CHECK_THAT(x.detail, Catch::Contains("epoch 3") && Catch::Contains("gap val_loss - train_loss = 0.7"));
            CHECK(x.code == "overfitting");
        }
    CHECK_FALSE(has(f, "Learning rate too high", report::Severity::warning));
}

TEST_CASE("diagnosis: learning rate too high, from a NaN, an exploding loss or a non-finite stop", "[report]") {
    CHECK(has(report::diagnose(make_log({0.9, 0.7, NAN}, {0.8, 0.7, NAN}, 2)), "Learning rate too high", report::Severity::warning));
    CHECK(has(report::diagnose(make_log({0.9, 0.5, 1.2, 3.0}, {0.8, 0.6, 1.5, 4.0}, 2)), "Learning rate too high",
              report::Severity::warning));
    plot::TrainingLog empty;  // stopped in the first epoch
    const auto f = report::diagnose(empty, {.non_finite_loss = true, .message = "training: non-finite loss"});
    REQUIRE(has(f, "Learning rate too high", report::Severity::warning));
    CHECK(f.front().code == "lr_too_high");
}

TEST_CASE("diagnosis: learning rate too low from the update ratio, even when dropout makes the loss noisy", "[report]") {
    plot::TrainingLog log = make_log({0.93, 1.07, 0.90}, {0.77, 0.75, 0.76}, 1);
    for (auto& e : log.epochs) e.metrics["update_ratio"] = 2e-7;
    const auto f = report::diagnose(log);
    CHECK(has(f, "Learning rate too low", report::Severity::warning));
    CHECK_FALSE(has(f, "Learning rate too high", report::Severity::warning));
    for (auto& e : log.epochs) e.metrics["update_ratio"] = 1.5e-3;  // a healthy rate: noise is not a stall
    CHECK_FALSE(has(report::diagnose(log), "Learning rate too low", report::Severity::warning));
    // Without the ratio: a loss that moved less than 1%.
    CHECK(has(report::diagnose(make_log({0.700, 0.699, 0.698}, {0.7, 0.7, 0.7}, 1)), "Learning rate too low",
              report::Severity::warning));
}

TEST_CASE("diagnosis: a healthy run, an underfitting run, a run still improving", "[report]") {
    const auto healthy = report::diagnose(make_log({0.9, 0.6, 0.5, 0.45}, {0.8, 0.6, 0.55, 0.54}, 4));
    CHECK(has(healthy, "No divergence, stall, overfitting or underfitting found", report::Severity::ok));
    CHECK(has(healthy, "Still improving", report::Severity::note));
    const auto under = report::diagnose(make_log({0.70, 0.69, 0.69, 0.68}, {0.7, 0.7, 0.7, 0.7}, 1));
    CHECK(has(under, "Underfitting", report::Severity::warning));
    CHECK(report::diagnosis_log_line(under).find("\"code\":\"underfitting\"") != std::string::npos);
}
