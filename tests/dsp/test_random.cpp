#include "dsp/random.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace mtag::dsp;

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("random: fill_normal draws a standard normal (moments, CDF, the tail beyond the ziggurat's base)") {
    Rng rng(2026);
    std::vector<float> draws(1 << 20);
    fill_normal(rng, draws);
    double sum = 0.0, square = 0.0, fourth = 0.0;
    std::size_t tail = 0;
    for (float v : draws) {
        sum += v;
        square += double(v) * v;
        fourth += double(v) * v * v * v;
        tail += std::abs(v) > 3.6541528853610088;  // beyond r: drawn by the tail sampler
    }
    const double n = static_cast<double>(draws.size());
    REQUIRE(std::abs(sum / n) < 0.005);                // standard error 0.001
    REQUIRE(square / n == Approx(1.0).margin(0.006));  // standard error 0.0014
    REQUIRE(fourth / n == Approx(3.0).margin(0.04));   // kurtosis of a normal; standard error ~0.01
    const double expected_tail = 2.0 * (1.0 - normal_cdf(3.6541528853610088)) * n;  // ~270
    REQUIRE(std::abs(static_cast<double>(tail) - expected_tail) < 5.0 * std::sqrt(expected_tail));
    // Kolmogorov-Smirnov distance to the normal CDF: 1.63 / sqrt(n) is its 1% critical value.
    std::sort(draws.begin(), draws.end());
    double distance = 0.0;
    for (std::size_t i = 0; i < draws.size(); i += 97)
        distance = std::max(distance, std::abs(normal_cdf(draws[i]) - (static_cast<double>(i) + 0.5) / n));
    REQUIRE(distance < 1.63 / std::sqrt(n));
}

TEST_CASE("random: fill_normal is the same sequence for a seed, whatever the block sizes") {
    Rng a(5), b(5), c(6);
    std::vector<float> whole(1000), first(300), second(700), other(1000);
    fill_normal(a, whole);
    fill_normal(b, first);
    fill_normal(b, second);
    fill_normal(c, other);
    REQUIRE(std::equal(first.begin(), first.end(), whole.begin()));
    REQUIRE(std::equal(second.begin(), second.end(), whole.begin() + 300));
    REQUIRE_FALSE(std::equal(other.begin(), other.end(), whole.begin()));
}
