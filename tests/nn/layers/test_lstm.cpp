#include "nn/layers/lstm.hpp"

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

// Keras 1.2 LSTM.step in double: i, f, o hard sigmoid, candidate ("c") tanh, h = o tanh(c).
std::vector<double> keras_lstm_reference(const Tensor& x, LSTM& lstm, bool return_sequences) {
    std::map<std::string, Tensor> p;
    for (Parameter* q : lstm.parameters()) p[q->name] = q->value;
    const std::int64_t n = x.dim(0), steps = x.dim(1), f = x.dim(2), h = lstm.options().hidden_size;
    std::vector<double> out;
    for (std::int64_t b = 0; b < n; ++b) {
        std::vector<double> state(static_cast<std::size_t>(h), 0.0), cell = state;
        for (std::int64_t t = 0; t < steps; ++t) {
            auto affine = [&](const std::string& gate, std::int64_t j) {
                double a = p["b_" + gate][static_cast<std::size_t>(j)];
                for (std::int64_t k = 0; k < f; ++k) a += x.at(b, t, k) * p["W_" + gate].at(k, j);
                for (std::int64_t k = 0; k < h; ++k)
                    a += state[static_cast<std::size_t>(k)] * p["U_" + gate].at(k, j);
                return a;
            };
            std::vector<double> next(static_cast<std::size_t>(h));
            for (std::int64_t j = 0; j < h; ++j) {
                const auto u = static_cast<std::size_t>(j);
                cell[u] = hard_sigmoid(affine("f", j)) * cell[u] +
                          hard_sigmoid(affine("i", j)) * std::tanh(affine("c", j));
                next[u] = hard_sigmoid(affine("o", j)) * std::tanh(cell[u]);
            }
            state = next;
            if (return_sequences || t == steps - 1) out.insert(out.end(), state.begin(), state.end());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("lstm: pytorch convention matches torch.nn.LSTM (forward, input and weight gradients)") {
    const auto fixture = mtag::nn::test::load_rnn_fixture();
    CHECK(mtag::nn::test::check_rnn_case(fixture, "lstm_sequences") == 6);
    CHECK(mtag::nn::test::check_rnn_case(fixture, "lstm_last") == 6);
}

TEST_CASE("lstm: keras1 convention follows Keras 1.2 LSTM.step (hard sigmoid gates, i c f o weights)") {
    for (bool seq : {true, false}) {
        LSTM lstm({.input_size = 4,
                   .hidden_size = 3,
                   .convention = RnnConvention::keras1,
                   .return_sequences = seq});
        REQUIRE(lstm.parameters().size() == 12);
        CHECK(lstm.parameters()[3]->name == "W_c");
        CHECK(lstm.parameters()[7]->name == "U_f");
        CHECK(lstm.parameters()[11]->name == "b_o");
        randomize(lstm, 20, 1.5f);
        const Tensor x = random_tensor({2, 5, 4}, 3, -1.5f, 1.5f);
        const Tensor y = lstm.forward(x);
        const auto expected = keras_lstm_reference(x, lstm, seq);
        REQUIRE(y.size() == expected.size());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(expected[i]).margin(1e-5));
    }
}

TEST_CASE("lstm: rebuilt from its config, bad shapes say what was expected") {
    LSTM lstm({.input_size = 5, .hidden_size = 2});
    const auto rebuilt = build_module(lstm.config());
    CHECK(rebuilt->type() == "LSTM");
    CHECK(rebuilt->config() == lstm.config());
    CHECK(rebuilt->parameters()[1]->name == "weight_hh_l0");
    CHECK(rebuilt->parameters()[1]->shape() == Shape{8, 2});
    CHECK(lstm.forward(random_tensor({3, 7, 5}, 1)).shape() == Shape{3, 7, 2});
    CHECK_THROWS_AS(lstm.forward(random_tensor({3, 7, 4}, 1)), mtag::Error);
    CHECK_THROWS_AS(lstm.backward(random_tensor({3, 2}, 1)), mtag::Error);
    CHECK_THROWS_AS(LSTM({.input_size = 2, .hidden_size = 0}), mtag::Error);
}
