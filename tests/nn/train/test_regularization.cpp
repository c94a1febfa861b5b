#include "nn/train/regularization.hpp"

#include "dsp/error.hpp"
#include "nn/optim/adam.hpp"
#include "nn/optim/sgd.hpp"
#include "nn/train/training_state.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace mtag::nn;
using mtag::nn::test::random_tensor;

namespace {
TrainingStateOptions with(const RegularizationOptions& r) {
    TrainingStateOptions o;
    o.regularization = r;
    return o;
}

// A weight (4, 3), a bias (4) and a norm scale (4), with gradients.
struct Params {
    Parameter w{"fc.weight", {4, 3}};
    Parameter b{"fc.bias", {4}, true};
    Parameter n{"bn.weight", {4}, true};
    Params() {
        w.value = random_tensor({4, 3}, 1, -2.0f, 2.0f);
        b.value = random_tensor({4}, 2);
        n.value = random_tensor({4}, 3);
        w.grad = random_tensor({4, 3}, 4);
        b.grad = random_tensor({4}, 5);
        n.grad = random_tensor({4}, 6);
    }
    std::vector<Parameter*> all() { return {&w, &b, &n}; }
};
}  // namespace

TEST_CASE("regularization: elastic-net penalty gradients are the finite differences of the penalty") {
    Params p;
    const Tensor g0 = p.w.grad.clone(), gb = p.b.grad.clone();
    const RegularizationOptions o{.l1 = 0.3, .l2 = 0.05};
    add_penalty_gradients(p.all(), o);
    for (std::size_t i = 0; i < p.w.size(); ++i) {
        const float saved = p.w.value[i];
        p.w.value[i] = saved + 1e-3f;
        const double up = penalty(p.all(), o);
        p.w.value[i] = saved - 1e-3f;
        const double down = penalty(p.all(), o);
        p.w.value[i] = saved;
        CHECK(p.w.grad[i] - g0[i] == Approx((up - down) / 2e-3).margin(2e-3));
    }
    // Biases and norm parameters are not penalised by default.
    for (std::size_t i = 0; i < p.b.size(); ++i) CHECK(p.b.grad[i] == gb[i]);
    // l2 alone is torch's weight_decay: g + wd * w.
    Params q;
    const Tensor before = q.w.grad.clone();
    add_penalty_gradients(q.all(), {.l2 = 0.1});
    for (std::size_t i = 0; i < q.w.size(); ++i)
        CHECK(q.w.grad[i] == Approx(before[i] + 0.1f * q.w.value[i]));
}

TEST_CASE("regularization: clip by value clamps, max-norm is torch.renorm(w, 2, 0, c)") {
    Params p;
    clip_grad_value(p.all(), 0.25);
    for (Parameter* q : p.all())
        for (std::size_t i = 0; i < q->size(); ++i) CHECK(std::abs(q->grad[i]) <= 0.25f);
    // torch.renorm(torch.tensor([[3, 4, 0], [0.1, 0.1, 0.1], [1, 2, 2]]), 2, 0, 1.0)
    Parameter w{"w", {3, 3}};
    w.value = Tensor::from({3, 3}, std::vector<float>{3, 4, 0, 0.1f, 0.1f, 0.1f, 1, 2, 2});
    apply_max_norm({&w}, 1.0);
    const std::vector<float> torch_out{0.6000000238418579f,  0.800000011920929f,   0.0f,
                                       0.10000000149011612f, 0.10000000149011612f, 0.10000000149011612f,
                                       0.3333333432674408f,  0.6666666865348816f,  0.6666666865348816f};
    for (std::size_t i = 0; i < 9; ++i) CHECK(w.value[i] == Approx(torch_out[i]).epsilon(1e-6));
    CHECK_THROWS_AS((RegularizationOptions{.l1 = -1}.validate()), mtag::Error);
}

TEST_CASE("regularization: penalties and the optimizers' weight decay are the same arithmetic") {
    // regularization.l2 under Adam == Adam(weight_decay, l2); regularization.l1 == decay_mode l1.
    for (const WeightDecayMode mode : {WeightDecayMode::l2, WeightDecayMode::l1}) {
        Params a, b;
        auto run = [](Params& p, std::unique_ptr<Optimizer> opt, RegularizationOptions r) {
            TrainingState state(std::move(opt), nullptr, with(r));
            for (int step = 0; step < 5; ++step) {
                p.w.grad = random_tensor({4, 3}, 100 + step);
                p.b.grad = random_tensor({4}, 200 + step);
                p.n.grad = random_tensor({4}, 300 + step);
                state.optimizer_step();
            }
        };
        const bool l1 = mode == WeightDecayMode::l1;
        run(a, std::make_unique<Adam>(a.all(), AdamOptions{.lr = 0.01}), {.l1 = l1 ? 0.1 : 0.0, .l2 = l1 ? 0.0 : 0.1});
        run(b, std::make_unique<Adam>(b.all(), AdamOptions{.lr = 0.01, .weight_decay = 0.1, .decay_mode = mode}), {});
        for (std::size_t i = 0; i < a.w.size(); ++i) CHECK(a.w.value[i] == b.w.value[i]);
        for (std::size_t i = 0; i < a.b.size(); ++i) CHECK(a.b.value[i] == b.b.value[i]);
    }
}

TEST_CASE("regularization: TrainingState applies clipping, penalties and max-norm around an SGD step") {
    Params p;
    const Tensor w0 = p.w.value.clone();
    TrainingState state(std::make_unique<Sgd>(p.all(), SgdOptions{.lr = 0.1}), nullptr,
                        with({.l1 = 0.01, .max_norm = 0.5, .clip_grad_value = 0.05}));
    const Tensor g = p.w.grad.clone();
    state.optimizer_step();
    for (std::int64_t u = 0; u < 4; ++u) {
        double norm = 0;
        for (std::int64_t j = 0; j < 3; ++j)
            norm += std::pow(p.w.value[static_cast<std::size_t>(u * 3 + j)], 2);
        CHECK(std::sqrt(norm) <= 0.5 + 1e-5);
    }
    // Without max-norm the step is w - lr * clamp(g + l1 sign(w), -0.05, 0.05).
    Params q;
    TrainingState plain(std::make_unique<Sgd>(q.all(), SgdOptions{.lr = 0.1}), nullptr,
                        with({.l1 = 0.01, .clip_grad_value = 0.05}));
    plain.optimizer_step();
    for (std::size_t i = 0; i < q.w.size(); ++i) {
        const float sign = static_cast<float>((w0[i] > 0) - (w0[i] < 0));
        const float expected = w0[i] - 0.1f * std::clamp(g[i] + 0.01f * sign, -0.05f, 0.05f);
        CHECK(q.w.value[i] == Approx(expected).epsilon(1e-6));
    }
}
