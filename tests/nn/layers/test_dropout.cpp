#include "nn/layers/dropout.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

using namespace mtag::nn;

TEST_CASE("dropout: mask rate, inverted scaling, seeded, identity in eval") {
    Dropout d({.p = 0.3, .seed = 42});
    const Tensor x = Tensor::full({100, 1000}, 1.0f);
    const Tensor y = d.forward(x);
    std::size_t kept = 0;
    double sum = 0.0;
    for (float v : y.span()) {
        if (v != 0.0f) {
            ++kept;
            CHECK(v == Approx(1.0 / 0.7));
        }
        sum += v;
    }
    const double rate = 1.0 - static_cast<double>(kept) / 100000.0;
    CHECK(rate == Approx(0.3).margin(0.01));            // ~7 standard deviations
    CHECK(sum / 100000.0 == Approx(1.0).margin(0.02));  // expectation preserved
    const Tensor g = d.backward(Tensor::full({100, 1000}, 1.0f));
    for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(g[i] == y[i]);
    Dropout same({.p = 0.3, .seed = 42});
    const Tensor y2 = same.forward(x);
    for (std::size_t i = 0; i < y.size(); i += 997) REQUIRE(y2[i] == y[i]);
    d.eval();
    const Tensor e = d.forward(x);
    CHECK(e.shares_storage(x));
}

TEST_CASE("dropout: generator state round trip continues the same mask sequence") {
    Dropout a({.p = 0.5, .seed = 9});
    const Tensor x = Tensor::full({1000}, 1.0f);
    a.forward(x);
    const std::string state = a.rng_state();
    const Tensor next = a.forward(x).clone();
    Dropout b({.p = 0.5, .seed = 123});
    b.set_rng_state(state);
    const Tensor resumed = b.forward(x);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(resumed[i] == next[i]);
    CHECK_THROWS(b.set_rng_state("not a state"));
}

TEST_CASE("dropout: the integer keep threshold gives the masks of uniform_real_distribution draws") {
    for (const double p : {0.0, 1e-12, 0.1, 0.3, 0.5, 0.7, 0.999999}) {
        const std::uint64_t t = dropout_keep_threshold(p);
        // At the threshold and one below it, as the distribution turns those draws into u.
        auto u_of = [](std::uint64_t r) {
            struct Fixed {
                using result_type = std::uint64_t;
                std::uint64_t value;
                static constexpr result_type min() { return 0; }
                static constexpr result_type max() { return ~std::uint64_t{0}; }
                result_type operator()() { return value; }
            } engine{r};
            return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
        };
        CHECK(u_of(t) >= p);
        if (t > 0) CHECK(u_of(t - 1) < p);
        // And over a stream: the masks equal the old draw-and-compare, element by element.
        std::mt19937_64 a(7), b(7);
        std::uniform_real_distribution<double> u(0.0, 1.0);
        for (int i = 0; i < 100000; ++i) REQUIRE((u(a) >= p) == (b() >= t));
    }
}
