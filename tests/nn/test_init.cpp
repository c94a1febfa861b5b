#include "nn/init.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/linear.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::nn;

namespace {
double stddev(const Tensor& t) {
    double s = 0, q = 0;
    for (float v : t.span()) {
        s += v;
        q += double(v) * v;
    }
    const double n = static_cast<double>(t.size());
    return std::sqrt(q / n - (s / n) * (s / n));
}
}  // namespace

TEST_CASE("init: fans, gains and distribution widths follow PyTorch") {
    double fi, fo;
    init::fans({128, 64, 3, 3}, fi, fo);
    CHECK(fi == 576.0);
    CHECK(fo == 1152.0);
    CHECK(init::gain(init::Nonlinearity::relu) == Approx(std::sqrt(2.0)));
    CHECK(init::gain(init::Nonlinearity::tanh) == Approx(5.0 / 3.0));
    CHECK(init::gain(init::Nonlinearity::leaky_relu, std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
    std::mt19937_64 rng(1);
    Tensor w({256, 64, 3, 3});
    init::kaiming_normal(w, rng, 0.0, init::FanMode::fan_in, init::Nonlinearity::relu);
    CHECK(stddev(w) == Approx(std::sqrt(2.0 / 576.0)).epsilon(0.02));
    init::kaiming_uniform(w, rng, 0.0, init::FanMode::fan_out, init::Nonlinearity::relu);
    CHECK(stddev(w) == Approx(std::sqrt(2.0 / (256.0 * 9))).epsilon(0.02));
    init::xavier_uniform(w, rng);
    CHECK(stddev(w) == Approx(std::sqrt(2.0 / (576.0 + 2304.0))).epsilon(0.02));
    init::xavier_normal(w, rng);
    CHECK(stddev(w) == Approx(std::sqrt(2.0 / (576.0 + 2304.0))).epsilon(0.02));
}

TEST_CASE("init: initialize() is seeded and treats weights, biases and BN differently") {
    auto make = [] {
        auto net = std::make_shared<Sequential>();
        net->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 3, .out_channels = 16}));
        net->add(std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 16}));
        net->add(std::make_shared<Linear>(LinearOptions{.in_features = 16, .out_features = 4}));
        return net;
    };
    auto a = make(), b = make(), c = make();
    init::initialize(*a, {.scheme = init::Scheme::torch_default, .seed = 5});
    init::initialize(*b, {.scheme = init::Scheme::torch_default, .seed = 5});
    init::initialize(*c, {.scheme = init::Scheme::he_normal, .seed = 6});
    auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i)
        for (std::size_t j = 0; j < pa[i]->size(); ++j) REQUIRE(pa[i]->value[j] == pb[i]->value[j]);
    // torch_default: conv bias U(+-1/sqrt(27)); BN weight 1, bias 0.
    for (float v : pa[1]->value.span()) CHECK(std::abs(v) <= 1.0 / std::sqrt(27.0));
    CHECK(pa[1]->value[0] != 0.0f);
    for (float v : pa[2]->value.span()) CHECK(v == 1.0f);
    for (float v : pa[3]->value.span()) CHECK(v == 0.0f);
    // he_normal: biases zero.
    for (float v : pc[1]->value.span()) CHECK(v == 0.0f);
    CHECK(pc[0]->value[0] != pa[0]->value[0]);
    CHECK_THROWS(init::parse_scheme("nope"));
}
