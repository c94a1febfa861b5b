#include "nn/layers/conv.hpp"
#include "nn/layers/direct_conv.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/conv_twins.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::passes_per_thread_count;
using mtag::nn::test::random_tensor;
using mtag::nn::test::require_same_passes;
using mtag::nn::test::same_random_parameters;

TEST_CASE("direct conv: few-channel 3x3 layers give the GEMM path's outputs and gradients") {
    // Maps narrower and wider than 16 columns with ragged tails, padding 1, 0 and mixed, output channels
    // in blocks of 8 and a remainder, one and three input channels, batch 1 and 2.
    const std::vector<Conv2dOptions> cases = {
        {.in_channels = 1, .out_channels = 16, .padding = {1, 1}},
        {.in_channels = 1, .out_channels = 13, .padding = {0, 0}, .bias = false},
        {.in_channels = 3, .out_channels = 10, .padding = {1, 0}},
        {.in_channels = 2, .out_channels = 9, .padding_same = true},
    };
    for (const Conv2dOptions& o : cases)
        for (const auto& [h, w] : {std::pair<std::int64_t, std::int64_t>{7, 5}, {12, 37}, {5, 70}})
            for (std::int64_t batch : {1, 2}) {
                INFO("C_in " << o.in_channels << " C_out " << o.out_channels << " map " << h << "x" << w << " batch "
                             << batch);
                Conv2d ref(o), conv(o);
                ref.set_algorithm(ConvAlgorithm::gemm);
                same_random_parameters(ref, conv, 8);
                const Tensor x = random_tensor({batch, o.in_channels, h, w}, 10);
                require_same_passes(ref, conv, x, 11, 1e-5, 1e-5);
                CHECK(conv.last_direct());
                CHECK_FALSE(ref.last_direct());
                if (o.bias)
                    for (std::int64_t c = 0; c < o.out_channels; ++c)
                        REQUIRE(conv.bias()->grad[static_cast<std::size_t>(c)] ==
                                Approx(ref.bias()->grad[static_cast<std::size_t>(c)]).margin(1e-4));
            }
}

TEST_CASE("direct conv: finite differences, and the same bits with 1 and 2 threads") {
    Conv2d conv({.in_channels = 2, .out_channels = 9, .padding = {1, 1}});
    conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 3, -0.5f, 0.5f));
    const Tensor x = random_tensor({2, 2, 6, 19}, 4);
    const auto e = gradcheck(conv, x, 3, 1e-2f, 60);
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);

    Conv2d big({.in_channels = 1, .out_channels = 24, .padding = {1, 1}});
    big.weight().value.copy_from(random_tensor(big.weight().shape(), 5, -0.5f, 0.5f));
    const Tensor xb = random_tensor({2, 1, 40, 53}, 6);
    const Tensor gy = random_tensor({2, 24, 40, 53}, 7);
    const std::vector<Tensor> runs = passes_per_thread_count(big, xb, gy, {1, 2});
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = 0; i < runs[k].size(); ++i) REQUIRE(runs[k][i] == runs[k + 3][i]);
}

TEST_CASE("direct conv: the one-channel backward pass, with and without the input gradient") {
    // C_in = 1 takes the fused pass (all gradients from one read of grad_output) where the CPU has AVX-512:
    // tasks of 16 input rows, so maps of 1, 2 and 3 tasks with ragged row and column tails, both paddings.
    for (const std::int64_t pad : {0, 1})
        for (const auto& [h, w] : {std::pair<std::int64_t, std::int64_t>{5, 21}, {33, 40}, {47, 17}})
            for (const bool input_grad : {true, false}) {
                INFO("padding " << pad << " map " << h << "x" << w << " input grad " << input_grad);
                const Conv2dOptions o{.in_channels = 1, .out_channels = 11, .padding = {pad, pad}};
                Conv2d ref(o), conv(o);
                ref.set_algorithm(ConvAlgorithm::gemm);
                same_random_parameters(ref, conv, 20);
                ref.set_input_grad(input_grad);
                conv.set_input_grad(input_grad);
                const Tensor x = random_tensor({2, 1, h, w}, 21);
                require_same_passes(ref, conv, x, 22, 1e-5, 1e-5);
                CHECK(conv.last_direct());
                for (std::int64_t c = 0; c < o.out_channels; ++c)
                    REQUIRE(conv.bias()->grad[static_cast<std::size_t>(c)] ==
                            Approx(ref.bias()->grad[static_cast<std::size_t>(c)]).margin(1e-4));
            }
    Conv2d conv({.in_channels = 1, .out_channels = 5, .padding = {1, 1}});
    conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 23, -0.5f, 0.5f));
    const auto e = gradcheck(conv, random_tensor({2, 1, 19, 22}, 24), 3, 1e-2f, 60);
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);
}

TEST_CASE("direct conv: non-temporal and cached stores write the same output") {
    // 20 x 32 planes (a multiple of 16 floats) stream; 7 x 13 ones fall back to cached stores.
    for (const auto& [h, w] : {std::pair<std::int64_t, std::int64_t>{20, 32}, {7, 13}}) {
        const direct_conv::Problem p{.c_in = 1, .c_out = 12, .h = h, .w = w, .pad_top = 1, .pad_left = 1,
                                     .out_h = h, .out_w = w};
        const Tensor x = random_tensor({2, 1, h, w}, 30), weight = random_tensor({12, 1, 3, 3}, 31);
        const Tensor bias = random_tensor({12}, 32);
        Tensor a = Tensor::full({2, 12, h, w}, 7.0f), b = Tensor::full({2, 12, h, w}, -7.0f);
        direct_conv::forward(p, 2, x.data(), weight.data(), bias.data(), a.data(), direct_conv::Stores::streamed);
        direct_conv::forward(p, 2, x.data(), weight.data(), bias.data(), b.data(), direct_conv::Stores::cached);
        for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == b[i]);
    }
}
