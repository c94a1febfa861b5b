#include "dsp/simple_effects.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace mtag::dsp;

TEST_CASE("simple effects: gain in dB and polarity") {
    std::vector<float> x = {1.0f, -0.5f, 0.25f};
    apply_gain_db(x, -6.0206);
    REQUIRE(x[0] == Approx(0.5).epsilon(1e-4));
    REQUIRE(x[1] == Approx(-0.25).epsilon(1e-4));
    invert_polarity(x);
    REQUIRE(x[0] == Approx(-0.5).epsilon(1e-4));
    REQUIRE(x[1] == Approx(0.25).epsilon(1e-4));
}

TEST_CASE("simple effects: shift keeps the length and pads zeros, crop pads outside the signal") {
    std::vector<float> x = {1, 2, 3, 4, 5};
    std::vector<float> a = x;
    shift(a, 2);
    REQUIRE(a == std::vector<float>{0, 0, 1, 2, 3});
    std::vector<float> b = x;
    shift(b, -1);
    REQUIRE(b == std::vector<float>{2, 3, 4, 5, 0});
    std::vector<float> c = x;
    shift(c, 9);
    REQUIRE(c == std::vector<float>{0, 0, 0, 0, 0});
    REQUIRE(crop(x, -2, 4) == std::vector<float>{0, 0, 1, 2});
    REQUIRE(crop(x, 3, 4) == std::vector<float>{4, 5, 0, 0});
    REQUIRE(crop(x, 1, 3) == std::vector<float>{2, 3, 4});
    std::vector<float> d = x;
    fix_length(d, 7);
    REQUIRE(d == std::vector<float>{1, 2, 3, 4, 5, 0, 0});
    fix_length(d, 2);
    REQUIRE(d == std::vector<float>{1, 2});
}
