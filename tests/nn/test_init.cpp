#include "nn/init.hpp"

#include "dsp/error.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/linear.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <tuple>

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

TEST_CASE("init: orthogonal is torch.nn.init.orthogonal_'s sign-fixed QR factor, rows or columns orthonormal") {
    // torch 1.13 (float64): a = 2 sin(k^2), k = 1..rows*cols, reshaped; q, r = linalg.qr(a or a.T);
    // q *= sign(diag(r)). Condition numbers 2.3 and 6.7. (The fixture had been 2 sin(k), whose columns obey
    // sin(k + 2) = 2 cos(1) sin(k + 1) - sin(k): rank 2, so the third column of q was rounding noise and
    // differed between OpenBLAS's Zen and SkylakeX kernels.)
    const std::vector<double> wide{0.675652506629,  -0.607668609149, 0.330907295211,  -0.231169702917,
                                   -0.106270796409, -0.708103892762, -0.391410169225, 0.436350595385,
                                   -0.297680604302, -0.257626419863, -0.015529301667, -0.275115853166,
                                   -0.308061145736, 0.565078074184,  -0.714041461465};
    const std::vector<double> tall{0.552522329046,  0.232439202642,  -0.401867355013, -0.189041587810,
                                   -0.622712324264, -0.697439123602, -0.626248137547, -0.177053501821,
                                   0.261565012816,  -0.332487190201, 0.614476224365,  -0.159993541744,
                                   -0.395282041781, 0.386357872273,  -0.508003059554};
    for (const auto& [rows, cols, expected] : {std::tuple{3, 5, wide}, std::tuple{5, 3, tall}}) {
        std::vector<double> a;
        for (int i = 0; i < rows * cols; ++i) a.push_back(2.0 * std::sin((i + 1.0) * (i + 1.0)));
        const std::vector<double> q = init::orthogonal_factor(a, rows, cols, 1.0);
        for (std::size_t i = 0; i < q.size(); ++i) CHECK(q[i] == Approx(expected[i]).margin(1e-9));
    }
    // A conv weight (8, 2, 3, 3): 8 rows of 18, orthonormal rows times the gain.
    std::mt19937_64 rng(3);
    Tensor w({8, 2, 3, 3});
    init::orthogonal(w, rng, 2.0);
    for (int r = 0; r < 8; ++r)
        for (int s = 0; s < 8; ++s) {
            double dot = 0;
            for (int c = 0; c < 18; ++c) dot += double(w[r * 18 + c]) * w[s * 18 + c];
            CHECK(dot == Approx(r == s ? 4.0 : 0.0).margin(1e-5));
        }
    CHECK(init::gain(init::Nonlinearity::selu) == 0.75);
}

TEST_CASE("init: the init option reads a name or {name, std | gain} and writes the bare name back when plain") {
    const auto spec = nlohmann::json("orthogonal").get<init::InitSpec>();
    CHECK(spec.scheme == init::Scheme::orthogonal);
    CHECK(nlohmann::json(spec) == "orthogonal");
    const auto small = nlohmann::json{{"name", "small_normal"}, {"std", 0.02}}.get<init::InitSpec>();
    CHECK(small.std == 0.02);
    CHECK(nlohmann::json(small) == nlohmann::json{{"name", "small_normal"}, {"std", 0.02}});
    CHECK_THROWS_AS((nlohmann::json{{"name", "he_normal"}, {"std", 0.02}}.get<init::InitSpec>()), mtag::Error);
    CHECK_THROWS_AS((nlohmann::json{{"name", "orthogonal"}, {"gian", 2}}.get<init::InitSpec>()), mtag::Error);
    // small_normal's std reaches the weights.
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Linear>(LinearOptions{.in_features = 256, .out_features = 256}));
    init::initialize(*net, small.options(4));
    CHECK(stddev(net->parameters()[0]->value) == Approx(0.02).epsilon(0.03));
}
