#include "nn/layers/dropout.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

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
