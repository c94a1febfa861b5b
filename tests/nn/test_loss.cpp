#include "nn/loss.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag::nn;
using mtag::nn::test::random_tensor;

namespace {
template <class F>
double max_grad_error(Tensor& logits, const Tensor& analytic, F loss) {
    double worst = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        const float saved = logits[i];
        logits[i] = saved + 1e-2f;
        const double up = loss();
        logits[i] = saved - 1e-2f;
        const double down = loss();
        logits[i] = saved;
        worst = std::max(worst, std::abs((up - down) / 2e-2 - analytic[i]));
    }
    return worst;
}
}  // namespace

TEST_CASE("loss: BCE with logits is stable, weighted and has the right gradient") {
    BCEWithLogitsLoss plain;
    // Large logits: no overflow, exact limits.
    const Tensor big = Tensor::from({1, 2}, std::vector<float>{100.0f, -100.0f});
    const Tensor target = Tensor::from({1, 2}, std::vector<float>{0.0f, 1.0f});
    CHECK(plain.forward(big, target) == Approx(100.0));
    CHECK(std::isfinite(plain.forward(big, target)));
    // Known value: x = 0 -> log 2 per element.
    CHECK(plain.forward(Tensor({2, 3}), Tensor::full({2, 3}, 1.0f)) == Approx(std::log(2.0)));

    BCEWithLogitsLoss weighted({.pos_weight = {1.0f, 3.0f, 0.5f}});
    Tensor logits = random_tensor({4, 3}, 1, -3.0f, 3.0f);
    Tensor targets = random_tensor({4, 3}, 2, 0.0f, 1.0f);
    for (float& t : targets.span()) t = t > 0.5f ? 1.0f : 0.0f;
    weighted.forward(logits, targets);
    const Tensor g = weighted.backward();
    CHECK(max_grad_error(logits, g, [&] { return weighted.forward(logits, targets); }) < 1e-4);
    CHECK_THROWS_AS(BCEWithLogitsLoss({.pos_weight = {1.0f}}).forward(logits, targets), mtag::Error);
}

TEST_CASE("loss: softmax cross-entropy with and without label smoothing") {
    CrossEntropyLoss ce;
    const std::vector<std::int64_t> t = {2, 0, 1};
    // Uniform logits: loss = log K.
    CHECK(ce.forward(Tensor({3, 4}), t) == Approx(std::log(4.0)));
    for (double s : {0.0, 0.1}) {
        CrossEntropyLoss loss({.label_smoothing = s});
        Tensor logits = random_tensor({3, 4}, 3, -4.0f, 4.0f);
        loss.forward(logits, t);
        const Tensor g = loss.backward();
        CHECK(max_grad_error(logits, g, [&] { return loss.forward(logits, t); }) < 1e-4);
    }
    // Label smoothing: a confident correct prediction still costs s * (mean negative log-prob).
    CrossEntropyLoss smooth({.label_smoothing = 0.2});
    const Tensor sharp = Tensor::from({1, 2}, std::vector<float>{10.0f, 0.0f});
    const std::vector<std::int64_t> zero = {0};
    const double lse = 10.0 + std::log1p(std::exp(-10.0));
    CHECK(smooth.forward(sharp, zero) == Approx(0.9 * (lse - 10.0) + 0.1 * lse));
    CHECK_THROWS_AS(ce.forward(Tensor({1, 2}), std::vector<std::int64_t>{2}), mtag::Error);
}

TEST_CASE("loss: BCE label smoothing is targets * (1 - s) + s / 2, as torch on smoothed targets") {
    // torch 1.13: binary_cross_entropy_with_logits(x, y * 0.9 + 0.05) and its gradient w.r.t. x.
    const Tensor x = Tensor::from({2, 3}, std::vector<float>{2.0f, -1.0f, 0.5f, -3.0f, 0.2f, 1.5f});
    const Tensor y = Tensor::from({2, 3}, std::vector<float>{1, 0, 1, 0, 0, 1});
    BCEWithLogitsLoss loss(BCEWithLogitsOptions{.pos_weight = {}, .label_smoothing = 0.1});
    CHECK(loss.forward(x, y) == Approx(0.3920677602291107).epsilon(1e-6));
    const std::vector<double> torch_grad{-0.01153382658958435, 0.03649023920297623, -0.05459010601043701,
                                         -0.0004290211945772171, 0.08330565690994263, -0.022070923820137978};
    const Tensor g = loss.backward();
    for (std::size_t i = 0; i < 6; ++i) CHECK(g[i] == Approx(torch_grad[i]).margin(1e-7));
    CHECK_THROWS_AS(BCEWithLogitsLoss(BCEWithLogitsOptions{.pos_weight = {}, .label_smoothing = 1.5}), mtag::Error);
}
