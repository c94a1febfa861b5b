#include "nn/layers/batchnorm.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("batchnorm: training uses batch statistics and updates running stats like PyTorch") {
    BatchNorm2d bn({.num_features = 2});
    const Tensor x = random_tensor({3, 2, 4, 5}, 1, -2.0f, 3.0f);
    const Tensor y = bn.forward(x);
    for (int c = 0; c < 2; ++c) {
        double mean = 0, sq = 0, ymean = 0, yvar = 0;
        const int count = 3 * 20;
        for (int n = 0; n < 3; ++n)
            for (int i = 0; i < 20; ++i) mean += x[static_cast<std::size_t>((n * 2 + c) * 20 + i)];
        mean /= count;
        for (int n = 0; n < 3; ++n)
            for (int i = 0; i < 20; ++i) {
                const double d = x[static_cast<std::size_t>((n * 2 + c) * 20 + i)] - mean;
                sq += d * d;
                ymean += y[static_cast<std::size_t>((n * 2 + c) * 20 + i)];
            }
        ymean /= count;
        for (int n = 0; n < 3; ++n)
            for (int i = 0; i < 20; ++i) {
                const double d = y[static_cast<std::size_t>((n * 2 + c) * 20 + i)] - ymean;
                yvar += d * d;
            }
        CHECK(ymean == Approx(0.0).margin(1e-5));
        CHECK(yvar / count == Approx(sq / count / (sq / count + 1e-5)).epsilon(1e-4));
        // momentum 0.1, unbiased variance
        CHECK(bn.running_mean()[static_cast<std::size_t>(c)] == Approx(0.1 * mean).epsilon(1e-5));
        CHECK(bn.running_var()[static_cast<std::size_t>(c)] ==
              Approx(0.9 + 0.1 * sq / (count - 1)).epsilon(1e-5));
    }
    CHECK(bn.buffers()[2]->value[0] == 1.0f);  // num_batches_tracked
    CHECK(bn.buffers()[2]->integer);
}

TEST_CASE("batchnorm: eval uses running statistics and leaves them unchanged") {
    BatchNorm1d bn({.num_features = 3});
    bn.running_mean().copy_from(Tensor::from({3}, std::vector<float>{1.0f, -1.0f, 0.5f}));
    bn.running_var().copy_from(Tensor::from({3}, std::vector<float>{4.0f, 0.25f, 1.0f}));
    bn.weight()->value.copy_from(Tensor::from({3}, std::vector<float>{2.0f, 1.0f, 1.0f}));
    bn.bias()->value.copy_from(Tensor::from({3}, std::vector<float>{0.0f, 1.0f, 0.0f}));
    bn.eval();
    const Tensor x = random_tensor({2, 3, 7}, 4);
    const Tensor y = bn.forward(x);
    CHECK(y.at(1, 0, 3) == Approx(2.0 * (x.at(1, 0, 3) - 1.0) / std::sqrt(4.0 + 1e-5)).margin(1e-5));
    CHECK(y.at(0, 1, 2) == Approx((x.at(0, 1, 2) + 1.0) / std::sqrt(0.25 + 1e-5) + 1.0).margin(1e-5));
    CHECK(bn.running_mean()[0] == 1.0f);
    // A frozen BN stays in eval even when its parent trains.
    bn.train();
    bn.freeze();
    const Tensor y2 = bn.forward(x);
    CHECK(y2[5] == y[5]);
}

TEST_CASE("batchnorm: gradients in training and eval mode") {
    for (bool training : {true, false}) {
        BatchNorm2d bn({.num_features = 3});
        bn.weight()->value.copy_from(random_tensor({3}, 5, 0.5f, 1.5f));
        bn.bias()->value.copy_from(random_tensor({3}, 6));
        bn.running_var().fill(1.7f);
        bn.train(training);
        const auto e = gradcheck(bn, random_tensor({2, 3, 3, 5}, 7, -2.0f, 2.0f));
        CHECK(e.input < 3e-3);
        CHECK(e.param < 3e-3);
    }
    BatchNorm1d bn1({.num_features = 4});
    const auto e = gradcheck(bn1, random_tensor({5, 4}, 8));
    CHECK(e.input < 3e-3);
    CHECK(e.param < 3e-3);
    CHECK_THROWS_AS(bn1.forward(random_tensor({1, 4}, 8)), mtag::Error);  // one value per channel
}
