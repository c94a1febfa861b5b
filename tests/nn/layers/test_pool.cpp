#include "nn/layers/pool.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <numeric>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

namespace {
// Distinct values (a shuffled ramp) so max pooling has a unique maximum per window.
Tensor distinct(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    std::vector<float> v(t.size());
    std::iota(v.begin(), v.end(), 0.0f);
    std::mt19937_64 rng(seed);
    std::shuffle(v.begin(), v.end(), rng);
    for (std::size_t i = 0; i < v.size(); ++i) t[i] = v[i] * 0.1f;
    return t;
}
}  // namespace

TEST_CASE("pool: output sizes follow PyTorch including ceil_mode") {
    CHECK(pool_output_size(1366, 4, 4, 0, false) == 341);
    CHECK(pool_output_size(7, 2, 2, 0, true) == 4);
    CHECK(pool_output_size(7, 2, 2, 0, false) == 3);
    CHECK(pool_output_size(5, 3, 2, 1, true) == 3);  // last window would start in the right padding
    CHECK(pool_output_size(6, 3, 2, 1, true) == 4);
    CHECK(pool_output_size(10, 3, 3, 0, true) == 4);
    MaxPool2d p({.kernel_size = {2, 4}});
    CHECK(p.forward(Tensor({1, 1, 96, 1366})).shape() == Shape({1, 1, 48, 341}));
    CHECK_THROWS_AS(MaxPool2d({.kernel_size = {2, 2}, .padding = {2, 0}}), mtag::Error);
}

TEST_CASE("pool: max and average pooling values") {
    const Tensor x = Tensor::from({1, 1, 2, 4}, std::vector<float>{1, 5, 2, 0, 3, 4, 8, 7});
    MaxPool2d mp({.kernel_size = {2, 2}});
    const Tensor y = mp.forward(x);
    CHECK(y[0] == 5.0f);
    CHECK(y[1] == 8.0f);
    AvgPool2d ap({.kernel_size = {2, 2}, .stride = {1, 2}, .padding = {1, 1}});
    // count_include_pad: the first window covers 3 padded and 1 real element: 1/4.
    const Tensor a = ap.forward(x);
    CHECK(a.shape() == Shape({1, 1, 3, 3}));
    CHECK(a[0] == Approx(0.25));
    AdaptiveAvgPool1d ad(3);
    const Tensor z = ad.forward(Tensor::from({1, 1, 5}, std::vector<float>{1, 2, 3, 4, 5}));
    // windows [0,2) [1,4) [3,5)
    CHECK(z[0] == Approx(1.5));
    CHECK(z[1] == Approx(3.0));
    CHECK(z[2] == Approx(4.5));
}

TEST_CASE("pool: gradients for max/avg, 1-D/2-D, padding, ceil_mode, adaptive") {
    std::vector<std::shared_ptr<Module>> pools = {
        std::make_shared<MaxPool2d>(
            Pool2dOptions{.kernel_size = {2, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true}),
        std::make_shared<AvgPool2d>(
            Pool2dOptions{.kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true}),
        std::make_shared<MaxPool1d>(Pool1dOptions{.kernel_size = 3}),
        std::make_shared<AvgPool1d>(Pool1dOptions{.kernel_size = 3, .stride = 2, .padding = 1}),
        std::make_shared<AdaptiveAvgPool2d>(2, 3),
        std::make_shared<AdaptiveMaxPool2d>(3, 2),
        std::make_shared<AdaptiveAvgPool1d>(4),
        std::make_shared<AdaptiveMaxPool1d>(4),
    };
    for (auto& p : pools) {
        INFO(p->type());
        const bool one_d = p->type().find("1d") != std::string::npos;
        const Tensor x = one_d ? distinct({2, 3, 11}, 3) : distinct({2, 2, 7, 9}, 3);
        const auto e = gradcheck(*p, x, 5, 1e-3f);
        CHECK(e.input < 2e-3);
    }
}
