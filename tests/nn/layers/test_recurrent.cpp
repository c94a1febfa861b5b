// What GRU and LSTM share (nn/layers/recurrent.hpp): both conventions, both output modes, gradients.
#include "nn/layers/gru.hpp"
#include "nn/layers/lstm.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/rnn_fixture.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;
using mtag::nn::test::randomize;

TEMPLATE_TEST_CASE("recurrent: gradients of every convention, with and without return_sequences", "", GRU, LSTM) {
    for (const auto convention : {RnnConvention::pytorch, RnnConvention::keras1})
        for (bool seq : {true, false}) {
            INFO(rnn_convention_name(convention) << " return_sequences " << seq);
            TestType layer({.input_size = 4, .hidden_size = 3, .convention = convention, .return_sequences = seq});
            // keras1: |pre-activations| <= 0.3 * (4 + 3 + 1) < 2.5, away from the hard sigmoid's kinks.
            randomize(layer, 30, 0.3f);
            const auto e = gradcheck(layer, random_tensor({2, 5, 4}, 31), 7, 1e-2f, 200);
            CHECK(e.input < 2e-3);
            CHECK(e.param < 2e-3);
        }
}
