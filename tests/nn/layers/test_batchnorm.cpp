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

TEST_CASE("batchnorm: a stat reducer makes the statistics those of the batch over all ranks") {
    // Two "ranks" holding the same shard: a reducer that doubles every sum stands in for the all-reduce,
    // so the synchronised layer on the shard must behave like a plain layer on the shard stacked twice.
    const std::int64_t n = 3, c = 2, s = 5;
    const Tensor x = random_tensor({n, c, s}, 7, -1.0f, 2.0f);
    const Tensor gy = random_tensor({n, c, s}, 8);
    Tensor x2({2 * n, c, s}), gy2({2 * n, c, s});
    for (int half = 0; half < 2; ++half) {
        std::copy(x.data(), x.data() + x.size(), x2.data() + half * x.size());
        std::copy(gy.data(), gy.data() + gy.size(), gy2.data() + half * gy.size());
    }
    BatchNorm1d synced({.num_features = c}), full({.num_features = c});
    int calls = 0;
    synced.set_stat_reducer([&calls](std::span<double> v) {
        ++calls;
        for (double& d : v) d *= 2.0;
    });
    REQUIRE(synced.synchronized());
    const Tensor y = synced.forward(x);
    const Tensor y2 = full.forward(x2);
    CHECK(calls == 2);  // sums, then squared deviations about the global mean
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(y2[i]).margin(1e-6));
    for (std::size_t ch = 0; ch < 2; ++ch) {
        // The running variance is unbiased with the global count (2n s - 1, not n s - 1).
        CHECK(synced.running_mean()[ch] == Approx(full.running_mean()[ch]).margin(1e-7));
        CHECK(synced.running_var()[ch] == Approx(full.running_var()[ch]).epsilon(1e-6));
    }
    const Tensor gx = synced.backward(gy);
    const Tensor gx2 = full.backward(gy2);
    CHECK(calls == 3);  // gradient sums
    for (std::size_t i = 0; i < gx.size(); ++i) REQUIRE(gx[i] == Approx(gx2[i]).margin(1e-6));
    // Weight and bias gradients stay this rank's share (the gradient all-reduce adds the other half).
    for (std::size_t ch = 0; ch < 2; ++ch) {
        CHECK(2.0f * synced.weight()->grad[ch] == Approx(full.weight()->grad[ch]).margin(1e-5));
        CHECK(2.0f * synced.bias()->grad[ch] == Approx(full.bias()->grad[ch]).margin(1e-5));
    }
    // Eval normalises with the running statistics: no collective.
    synced.eval();
    synced.forward(x);
    CHECK(calls == 3);
    // Without a reducer the shard's own statistics are used (differ from the stacked batch's running var).
    synced.set_stat_reducer({});
    synced.train();
    BatchNorm1d local({.num_features = c});
    local.forward(x);
    CHECK(local.running_var()[0] != Approx(full.running_var()[0]).epsilon(1e-6));
}

TEST_CASE("batchnorm: axis normalises along another dim (the CRNN's BN over time positions, Keras eps)") {
    // (N, 1, F, T) with one feature per time position: statistics over N and F for each t.
    const std::int64_t n = 3, f = 4, t = 6;
    const Tensor x = random_tensor({n, 1, f, t}, 21, -2.0f, 3.0f);
    BatchNorm2d bn({.num_features = t, .eps = 1e-3, .axis = 3});
    bn.weight()->value.copy_from(random_tensor({t}, 22, 0.5f, 1.5f));
    bn.bias()->value.copy_from(random_tensor({t}, 23));
    const Tensor y = bn.forward(x);
    for (std::int64_t k = 0; k < t; ++k) {
        double mean = 0, sq = 0;
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t i = 0; i < f; ++i) mean += x.at(b, 0, i, k) / double(n * f);
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t i = 0; i < f; ++i) sq += (x.at(b, 0, i, k) - mean) * (x.at(b, 0, i, k) - mean);
        const double var = sq / double(n * f);
        const auto uk = static_cast<std::size_t>(k);
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t i = 0; i < f; ++i)
                REQUIRE(y.at(b, 0, i, k) ==
                        Approx((x.at(b, 0, i, k) - mean) / std::sqrt(var + 1e-3) * bn.weight()->value[uk] +
                               bn.bias()->value[uk])
                            .margin(1e-5));
        CHECK(bn.running_var()[uk] == Approx(0.9 + 0.1 * sq / double(n * f - 1)).epsilon(1e-5));
    }
    // Keras inference: (x - mean) / sqrt(var + eps) * gamma + beta with the stored statistics.
    bn.eval();
    const Tensor ye = bn.forward(x);
    const double expected = (x.at(1, 0, 2, 4) - bn.running_mean()[4]) /
                                std::sqrt(bn.running_var()[4] + 1e-3) * bn.weight()->value[4] +
                            bn.bias()->value[4];
    CHECK(ye.at(1, 0, 2, 4) == Approx(expected).margin(1e-5));
    // axis -1 is the same layer; a mismatched feature count or a batch axis is refused.
    BatchNorm2d last({.num_features = t, .eps = 1e-3, .axis = -1});
    last.weight()->value.copy_from(bn.weight()->value);
    last.bias()->value.copy_from(bn.bias()->value);
    const Tensor y2 = last.forward(x);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y2[i] == y[i]);
    CHECK_THROWS_AS(bn.forward(random_tensor({n, t, f, 1}, 1)), mtag::Error);
    CHECK_THROWS_AS(BatchNorm2d({.num_features = 2, .axis = 0}), mtag::Error);
    CHECK(bn.config()["axis"] == 3);
    CHECK_FALSE(BatchNorm2d({.num_features = 2}).config().contains("axis"));
    for (bool training : {true, false}) {
        bn.train(training);
        const auto e = gradcheck(bn, random_tensor({n, 1, f, t}, 24, -2.0f, 2.0f));
        CHECK(e.input < 3e-3);
        CHECK(e.param < 3e-3);
    }
    BatchNorm1d seq({.num_features = 5, .axis = 2});  // (N, T, C) sequences, features last
    const auto e = gradcheck(seq, random_tensor({2, 3, 5}, 25));
    CHECK(e.input < 3e-3);
    CHECK(e.param < 3e-3);
}

TEST_CASE(
    "batchnorm: use_batch_stats_in_eval normalises eval batches with their own statistics (Keras mode 2)") {
    const Tensor x = random_tensor({4, 3, 2, 5}, 31, -1.0f, 2.0f);
    BatchNorm2d mode2({.num_features = 3, .use_batch_stats_in_eval = true});
    BatchNorm2d plain({.num_features = 3});
    for (BatchNorm2d* bn : {&mode2, &plain}) {
        bn->weight()->value.copy_from(random_tensor({3}, 32, 0.5f, 1.5f));
        bn->bias()->value.copy_from(random_tensor({3}, 33));
    }
    const Tensor y_train = plain.forward(x).clone();  // training: batch statistics
    mode2.eval();
    const Tensor y = mode2.forward(x);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(y_train[i]).margin(1e-6));
    CHECK(mode2.running_mean()[0] == 0.0f);  // eval never updates the running statistics
    CHECK(mode2.running_var()[0] == 1.0f);
    CHECK(mode2.buffers()[2]->value[0] == 0.0f);
    CHECK(mode2.config()["use_batch_stats_in_eval"] == true);
    // Backward goes through the batch statistics, as in training.
    const auto e = gradcheck(mode2, x);
    CHECK(e.input < 3e-3);
    CHECK(e.param < 3e-3);
}
