// Tests nn/train/lr_finder: the exponential sweep, fastai's smoothing and divergence stop, the suggestion.
#include "nn/train/lr_finder.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::nn;

TEST_CASE("lr finder: rates grow exponentially from min to max", "[lr_finder]") {
    LrFinder f({.min_lr = 1e-6, .max_lr = 1, .steps = 7});
    CHECK(f.lr_at(0) == Approx(1e-6));
    CHECK(f.lr_at(3) == Approx(1e-3));
    CHECK(f.lr_at(6) == Approx(1));
    CHECK_THROWS(LrFinder({.min_lr = 1, .max_lr = 0.1}));
}

TEST_CASE("lr finder: a valley curve stops on divergence and suggests the steepest descent before the minimum",
          "[lr_finder]") {
    LrFinder f({.min_lr = 1e-6, .max_lr = 10, .steps = 100});
    // Loss of log10(lr) = x: about 1 below 1e-4, falling fastest at 1e-2, lowest at 1, exploding after.
    std::size_t s = 0;
    bool more = true;
    while (more) {
        const double x = std::log10(f.lr_at(s++));
        const double loss = x < 0 ? 1.0 - 0.4 / (1 + std::exp(-3 * (x + 2))) : 0.6 + 100 * x * x;
        more = f.record(loss);
    }
    CHECK(f.diverged());
    CHECK(f.points().size() < 100);
    const LrSuggestion sg = f.suggest();
    REQUIRE(sg.found);
    // The smoothing (beta 0.98) lags the curve by a few steps: the suggestion sits on the descent, before the minimum.
    CHECK(sg.lr > 3e-3);
    CHECK(sg.lr < 0.3);
    CHECK(sg.lr < sg.min_loss_lr);
    CHECK(sg.min_loss_lr_div10 == Approx(sg.min_loss_lr / 10));
    CHECK_FALSE(f.record(NAN));
}
