#include "nn/layers/activation.hpp"

#include "dsp/error.hpp"

#include "nn/layers/batchnorm.hpp"
#include "nn/layers/pool.hpp"
#include "nn/memory_stats.hpp"
#include "nn/vector_math.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

TEST_CASE("activation: values and gradients of ReLU, LeakyReLU, ELU, Sigmoid, Tanh") {
    // Inputs kept away from 0 so that finite differences do not straddle the kinks.
    Tensor x = random_tensor({3, 4, 5}, 1, -2.0f, 2.0f);
    for (float& v : x.span())
        if (std::abs(v) < 0.05f) v = 0.3f;
    std::vector<std::pair<std::shared_ptr<Module>, double (*)(double)>> cases = {
        {std::make_shared<ReLU>(), [](double v) { return v > 0 ? v : 0.0; }},
        {std::make_shared<LeakyReLU>(0.1f), [](double v) { return v > 0 ? v : 0.1 * v; }},
        {std::make_shared<ELU>(), [](double v) { return v > 0 ? v : std::expm1(v); }},
        {std::make_shared<Sigmoid>(), [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
        {std::make_shared<Tanh>(), [](double v) { return std::tanh(v); }},
    };
    for (auto& [m, f] : cases) {
        INFO(m->type());
        const Tensor y = m->forward(x);
        for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(y[i] == Approx(f(x[i])).margin(1e-6));
        const auto e = gradcheck(*m, x, 3, 1e-3f);
        CHECK(e.input < 2e-3);
    }
}

TEST_CASE("activation: inplace ReLU overwrites its input and still back-propagates") {
    ReLU relu(true);
    Tensor x = random_tensor({10}, 2);
    const Tensor keep = x.clone();
    const Tensor y = relu.forward(x);
    CHECK(y.shares_storage(x));
    const Tensor g = relu.backward(Tensor::full({10}, 1.0f));
    for (std::size_t i = 0; i < 10; ++i) CHECK(g[i] == (keep[i] > 0 ? 1.0f : 0.0f));
}

TEST_CASE("activation: BN + in-place ReLU + max-pool keep no full-size activation, gradients unchanged") {
    // Training memory (issue 8): after forward, only BN's input (held by the caller here), ReLU's
    // one-byte mask, the pool's output and its one-byte argmax remain; BN's output is freed.
    const Tensor x = random_tensor({4, 8, 16, 16}, 3, -2.0f, 2.0f);
    const std::size_t bytes = x.size() * sizeof(float);
    BatchNorm2d bn(BatchNormOptions{.num_features = 8});
    ReLU relu(true);
    MaxPool2d pool(Pool2dOptions{.kernel_size = {2, 2}});
    const std::size_t before = tensor_bytes_live();
    Tensor y = pool.forward(relu.forward(bn.forward(x)));
    const std::size_t held = tensor_bytes_live() - before;
    CHECK(held < bytes / 2);  // pool output (bytes / 4) and BN's per-channel statistics
    // Backward against the definition: d/dx through pool (first maximum), ReLU (x > 0) and BN.
    const Tensor g = random_tensor(y.shape(), 4, -1.0f, 1.0f);
    const Tensor gx = bn.backward(relu.backward(pool.backward(g.clone()))).clone();
    BatchNorm2d bn2(BatchNormOptions{.num_features = 8});
    ReLU relu2(false);
    MaxPool2d pool2(Pool2dOptions{.kernel_size = {2, 2}});
    const Tensor y2 = pool2.forward(relu2.forward(bn2.forward(x)));
    const Tensor gx2 = bn2.backward(relu2.backward(pool2.backward(g.clone())));
    REQUIRE(gx.shape() == gx2.shape());
    for (std::size_t i = 0; i < gx.size(); ++i) REQUIRE(gx[i] == gx2[i]);
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == y2[i]);
}

TEST_CASE("activation: ReLU and LeakyReLU over sizes that split into threads and 16-lane groups with a tail") {
    // 70001 elements: two thread chunks and a 1-element tail; exact values and gradients, with zeros and a
    // NaN, which passes through forward (torch.relu is a clamp) and gets no gradient (PyTorch's backward).
    for (const float slope : {0.0f, 0.2f}) {
        Tensor x = random_tensor({70001}, 7, -1.0f, 1.0f);
        for (std::size_t i = 0; i < x.size(); i += 97) x[i] = 0.0f;
        x[5] = std::numeric_limits<float>::quiet_NaN();
        std::unique_ptr<Module> act = slope == 0.0f ? std::unique_ptr<Module>(std::make_unique<ReLU>())
                                                    : std::make_unique<LeakyReLU>(slope);
        const Tensor y = act->forward(x);
        const Tensor g = random_tensor({70001}, 8, -1.0f, 1.0f);
        const Tensor gx = act->backward(g.clone());
        for (std::size_t i = 0; i < x.size(); ++i) {
            INFO("slope " << slope << " element " << i);
            const bool pos = x[i] > 0.0f;
            if (std::isnan(x[i])) REQUIRE(std::isnan(y[i]));
            else REQUIRE(y[i] == (pos ? x[i] : (slope == 0.0f ? 0.0f : slope * x[i])));
            REQUIRE(gx[i] == (pos ? g[i] : (slope == 0.0f ? 0.0f : slope * g[i])));
        }
    }
}

TEST_CASE("activation: ELU and SELU over sizes that split into threads and 16-lane groups with a tail") {
    // 70001 elements: two thread chunks and a 1-element tail, on the AVX-512 path where the CPU has it; every
    // value and gradient has the bits of the scalar formulas (expm1_fast, nn/vector_math.hpp), a NaN passes
    // through and -0 stays -0; in place gives the same bits.
    const auto selu_scale = static_cast<float>(SELU::scale);
    const auto selu_scale_alpha = static_cast<float>(SELU::scale * SELU::alpha);
    const auto bits = [](float v) { return std::bit_cast<std::uint32_t>(v); };
    for (const bool selu : {false, true}) {
        for (const bool inplace : {false, true}) {
            Tensor x = random_tensor({70001}, 11, -20.0f, 3.0f);
            for (std::size_t i = 0; i < x.size(); i += 97) x[i] = 0.0f;
            x[3] = -0.0f;
            x[5] = std::numeric_limits<float>::quiet_NaN();
            x[70000] = -1.5f;
            const float scale = selu ? selu_scale : 1.0f, scale_alpha = selu ? selu_scale_alpha : 0.7f;
            std::unique_ptr<Module> act = selu ? std::unique_ptr<Module>(std::make_unique<SELU>(inplace))
                                               : std::make_unique<ELU>(0.7f, inplace);
            const Tensor input = x.clone();
            const Tensor y = act->forward(inplace ? x : input);
            const Tensor g = random_tensor({70001}, 12, -1.0f, 1.0f);
            const Tensor gx = act->backward(g.clone());
            for (std::size_t i = 0; i < input.size(); ++i) {
                INFO((selu ? "SELU" : "ELU") << (inplace ? " in place" : "") << " element " << i);
                const float v = input[i];
                if (std::isnan(v)) {
                    REQUIRE(std::isnan(y[i]));
                    REQUIRE(std::isnan(gx[i]));
                    continue;
                }
                REQUIRE(bits(y[i]) == bits(v > 0.0f ? scale * v : scale_alpha * expm1_fast(v)));
                REQUIRE(bits(gx[i]) == bits(y[i] > 0.0f ? scale * g[i] : g[i] * (y[i] + scale_alpha)));
                REQUIRE(y[i] == Approx(v > 0 ? scale * v : scale_alpha * std::expm1(double(v))).epsilon(3e-7));
            }
            CHECK(std::signbit(y[3]));
        }
    }
}

TEST_CASE("activation: HardSigmoid is Keras 1's clip(0.2 x + 0.5, 0, 1), gradient 0.2 inside (-2.5, 2.5)") {
    HardSigmoid hs;
    const Tensor x = Tensor::from({1, 6}, std::vector<float>{-4.0f, -2.0f, -0.5f, 0.0f, 1.0f, 3.0f});
    const Tensor y = hs.forward(x);
    const std::vector<float> expected{0.0f, 0.1f, 0.4f, 0.5f, 0.7f, 1.0f};
    for (std::size_t i = 0; i < 6; ++i) CHECK(y[i] == Approx(expected[i]).margin(1e-7));
    const Tensor g = hs.backward(Tensor::full({1, 6}, 1.0f));
    const std::vector<float> slope{0.0f, 0.2f, 0.2f, 0.2f, 0.2f, 0.0f};
    for (std::size_t i = 0; i < 6; ++i) CHECK(g[i] == Approx(slope[i]));
    // Away from the kinks the finite differences agree; torch's Hardsigmoid is slope 1/6.
    Tensor xs = random_tensor({3, 7}, 5, -4.0f, 4.0f);
    for (float& v : xs.span())
        if (std::abs(std::abs(v) - 2.5f) < 0.05f) v = 0.0f;
    CHECK(gradcheck(hs, xs, 3, 1e-3f).input < 2e-3);
    HardSigmoid torch_like(1.0f / 6.0f);
    CHECK(torch_like.forward(Tensor::full({1, 1}, 1.5f))[0] == Approx(0.75f));
    CHECK(torch_like.config()["slope"] == Approx(1.0 / 6.0));
    CHECK_THROWS_AS(HardSigmoid(0.0f), mtag::Error);
}

TEST_CASE("activation: SELU matches torch.selu and has finite-difference gradients") {
    // torch.selu(torch.tensor([-3, -1, -0.1, 0.5, 2])) in torch 1.13, float32.
    const std::vector<float> in{-3.0f, -1.0f, -0.1f, 0.5f, 2.0f};
    const std::vector<float> torch_out{-1.6705687046051025f, -1.1113307476043701f, -0.16730524599552155f,
                                       0.5253505110740662f, 2.1014020442962646f};
    SELU selu;
    const Tensor y = selu.forward(Tensor::from({5}, in));
    for (std::size_t i = 0; i < in.size(); ++i) CHECK(y[i] == Approx(torch_out[i]).epsilon(1e-6));
    Tensor x = random_tensor({3, 4, 5}, 9, -2.0f, 2.0f);
    for (float& v : x.span())
        if (std::abs(v) < 0.05f) v = 0.3f;
    SELU fresh;
    CHECK(gradcheck(fresh, x, 3, 1e-3f).input < 2e-3);
    SELU inplace(true);
    Tensor xi = x.clone();
    CHECK(inplace.forward(xi).shares_storage(xi));
    CHECK(inplace.config()["type"] == "SELU");
}
