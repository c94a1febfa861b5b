#include "nn/layers/gru.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/layers/rnn_fixture.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;
using mtag::nn::test::randomize;

namespace {

double hard_sigmoid(double x) {
    return std::clamp(0.2 * x + 0.5, 0.0, 1.0);
}

// Keras 1.2 GRU.step in double, straight from the equations (x W + b, h U; reset before U_h).
std::vector<double> keras_gru_reference(const Tensor& x, GRU& gru, bool return_sequences) {
    std::map<std::string, Tensor> p;
    for (Parameter* q : gru.parameters()) p[q->name] = q->value;
    const std::int64_t n = x.dim(0), steps = x.dim(1), f = x.dim(2), h = gru.options().hidden_size;
    std::vector<double> out;
    for (std::int64_t b = 0; b < n; ++b) {
        std::vector<double> state(static_cast<std::size_t>(h), 0.0);
        for (std::int64_t t = 0; t < steps; ++t) {
            auto affine = [&](const std::string& gate, const std::vector<double>& hidden, std::int64_t j) {
                double a = p["b_" + gate][static_cast<std::size_t>(j)];
                for (std::int64_t k = 0; k < f; ++k) a += x.at(b, t, k) * p["W_" + gate].at(k, j);
                for (std::int64_t k = 0; k < h; ++k)
                    a += hidden[static_cast<std::size_t>(k)] * p["U_" + gate].at(k, j);
                return a;
            };
            std::vector<double> z(static_cast<std::size_t>(h)), rh(static_cast<std::size_t>(h)), next = z;
            for (std::int64_t j = 0; j < h; ++j) {
                z[static_cast<std::size_t>(j)] = hard_sigmoid(affine("z", state, j));
                rh[static_cast<std::size_t>(j)] =
                    hard_sigmoid(affine("r", state, j)) * state[static_cast<std::size_t>(j)];
            }
            for (std::int64_t j = 0; j < h; ++j) {
                const auto u = static_cast<std::size_t>(j);
                next[u] = z[u] * state[u] + (1.0 - z[u]) * std::tanh(affine("h", rh, j));
            }
            state = next;
            if (return_sequences || t == steps - 1) out.insert(out.end(), state.begin(), state.end());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("gru: pytorch convention matches torch.nn.GRU (forward, input and weight gradients)") {
    const auto fixture = mtag::nn::test::load_rnn_fixture();
    CHECK(mtag::nn::test::check_rnn_case(fixture, "gru_sequences") == 6);
    CHECK(mtag::nn::test::check_rnn_case(fixture, "gru_last") == 6);
}

TEST_CASE("gru: keras1 convention follows Keras 1.2 GRU.step (hard sigmoid, reset before U_h)") {
    for (bool seq : {true, false}) {
        GRU gru({.input_size = 4,
                 .hidden_size = 3,
                 .convention = RnnConvention::keras1,
                 .return_sequences = seq});
        REQUIRE(gru.parameters().size() == 9);
        CHECK(gru.parameters()[0]->name == "W_z");
        CHECK(gru.parameters()[0]->shape() == Shape{4, 3});
        CHECK(gru.parameters()[4]->name == "U_r");
        CHECK(gru.parameters()[8]->name == "b_h");
        // Weights large enough that some gates saturate (the clipped part of the hard sigmoid).
        randomize(gru, 20, 1.5f);
        const Tensor x = random_tensor({2, 5, 4}, 3, -1.5f, 1.5f);
        const Tensor y = gru.forward(x);
        const auto expected = keras_gru_reference(x, gru, seq);
        REQUIRE(y.size() == expected.size());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-5));
    }
}

TEST_CASE("gru: gradients accumulate, frozen weights and switched-off input gradients are skipped") {
    GRU gru({.input_size = 3, .hidden_size = 2});
    randomize(gru, 40, 0.5f);
    const Tensor x = random_tensor({2, 4, 3}, 41);
    const Tensor gy = random_tensor({2, 4, 2}, 42);
    gru.zero_grad();
    gru.forward(x);
    gru.backward(gy.clone());
    const Tensor once = gru.parameters()[1]->grad.clone();
    gru.forward(x);
    gru.backward(gy.clone());
    for (std::size_t i = 0; i < once.size(); ++i)
        CHECK(gru.parameters()[1]->grad[i] == Approx(2.0 * once[i]).margin(1e-6));
    gru.freeze();
    gru.set_input_grad(false);
    gru.zero_grad();
    gru.forward(x);
    CHECK_FALSE(gru.backward(gy.clone()).defined());
    for (Parameter* p : gru.parameters())
        for (float g : p->grad.span()) CHECK(g == 0.0f);
}

TEST_CASE("gru: rebuilt from its config, bad shapes and options say what was expected") {
    GRU gru(
        {.input_size = 5, .hidden_size = 2, .convention = RnnConvention::keras1, .return_sequences = false});
    const auto rebuilt = build_module(gru.config());
    CHECK(rebuilt->type() == "GRU");
    CHECK(rebuilt->config() == gru.config());
    CHECK(rebuilt->parameters().size() == 9);
    CHECK(gru.forward(random_tensor({3, 7, 5}, 1)).shape() == Shape{3, 2});
    CHECK_THROWS_AS(gru.forward(random_tensor({3, 7, 4}, 1)), mtag::Error);
    CHECK_THROWS_AS(gru.forward(random_tensor({7, 5}, 1)), mtag::Error);
    CHECK_THROWS_AS(gru.backward(random_tensor({3, 7, 2}, 1)), mtag::Error);
    CHECK_THROWS_AS(GRU({.input_size = 0, .hidden_size = 2}), mtag::Error);
    CHECK_THROWS_AS(
        build_module({{"type", "GRU"}, {"input_size", 2}, {"hidden_size", 2}, {"convention", "keras2"}}),
        mtag::Error);
}

TEST_CASE("gru: a CRNN-shaped stack from model.json (pad, BN over time, conv, permute, reshape, 2 GRUs)") {
    // Choi et al.'s Keras 1 CRNN in miniature: (N, 1, F, T) -> ZeroPadding2D -> BN(axis = time) ->
    // conv block -> Permute((3, 1, 2)) -> Reshape((T', C)) -> GRU (sequences) -> GRU (last) -> Dense.
    const nlohmann::json arch = nlohmann::json::parse(R"({"type": "Sequential", "layers": [
        {"type": "ZeroPad2d", "padding": [1, 1, 0, 0]},
        {"type": "BatchNorm2d", "num_features": 12, "eps": 0.001, "axis": 3},
        {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": [3, 3], "padding": [1, 1]},
        {"type": "BatchNorm2d", "num_features": 4, "eps": 0.001},
        {"type": "ELU"},
        {"type": "AvgPool2d", "kernel_size": [8, 3]},
        {"type": "Permute", "dims": [0, 3, 1, 2]},
        {"type": "Reshape", "shape": [4, 4]},
        {"type": "GRU", "input_size": 4, "hidden_size": 3, "convention": "keras1"},
        {"type": "GRU", "input_size": 3, "hidden_size": 3, "convention": "keras1", "return_sequences": false},
        {"type": "Linear", "in_features": 3, "out_features": 2}]})");
    auto net = build_module(arch);
    CHECK(build_module(net->config())->config() == net->config());
    randomize(*net, 50, 0.3f);
    for (Buffer* b : net->buffers())
        if (b->name.ends_with("running_var")) b->value.fill(1.3f);
    net->eval();
    const Tensor x = random_tensor({2, 1, 8, 10}, 51);
    CHECK(net->forward(x).shape() == Shape{2, 2});
    const auto e = gradcheck(*net, x, 7, 1e-2f, 40);
    CHECK(e.input < 3e-3);
    CHECK(e.param < 3e-3);
}
