#include "nn/layers/conv.hpp"
#include "nn/layers/polyphase_conv.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/conv_twins.hpp"
#include "nn/layers/microkernel.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <vector>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::passes_per_thread_count;
using mtag::nn::test::random_tensor;
using mtag::nn::test::require_same_passes;
using mtag::nn::test::same_random_parameters;

namespace {

Conv2dOptions stride2(std::int64_t in, std::int64_t out, std::array<std::int64_t, 2> padding, bool bias = true) {
    return {.in_channels = in, .out_channels = out, .kernel_size = {3, 3}, .stride = {2, 2}, .padding = padding,
            .bias = bias};
}

}  // namespace

TEST_CASE("polyphase conv: 3x3 stride-2 layers give the GEMM path's outputs and gradients") {
    // Padding 1, 0 and mixed (every phase's sub-kernel and offset), even and odd map sides, output channels
    // in blocks of 8 and a remainder, batch 1 and 3. winograd_f2 forces the path on maps of any size.
    const std::vector<Conv2dOptions> cases = {stride2(8, 16, {1, 1}), stride2(13, 9, {0, 0}, false),
                                              stride2(10, 8, {1, 0}), stride2(9, 20, {0, 1})};
    for (const Conv2dOptions& o : cases)
        for (const auto& [h, w] : {std::pair<std::int64_t, std::int64_t>{7, 5}, {12, 37}, {6, 20}, {3, 4}})
            for (std::int64_t batch : {1, 3}) {
                INFO("C_in " << o.in_channels << " C_out " << o.out_channels << " pad " << o.padding[0] << ","
                             << o.padding[1] << " map " << h << "x" << w << " batch " << batch);
                Conv2d ref(o), conv(o);
                ref.set_algorithm(ConvAlgorithm::gemm);
                conv.set_algorithm(ConvAlgorithm::winograd_f2);
                same_random_parameters(ref, conv, 8);
                const Tensor x = random_tensor({batch, o.in_channels, h, w}, 10);
                require_same_passes(ref, conv, x, 11, 1e-4, 1e-5);
                CHECK(conv.last_polyphase());
                CHECK_FALSE(ref.last_polyphase());
            }
}

TEST_CASE("polyphase conv: chosen automatically for large maps, equal to the GEMM path there") {
    // short_chunk_resnet's shape class (128 -> 128 channels on 64x115 has 220 tiles); smaller channels here.
    // Each sample is 16 x 200 x 331 floats > the path's 8 MB chunk, so batch 3 runs as several chunks.
    Conv2d ref(stride2(16, 24, {1, 1})), conv(stride2(16, 24, {1, 1}));
    ref.set_algorithm(ConvAlgorithm::gemm);
    same_random_parameters(ref, conv, 3);
    const Tensor x = random_tensor({3, 16, 200, 331}, 4);
    require_same_passes(ref, conv, x, 5, 1e-4, 1e-5);
    CHECK(conv.last_polyphase() == microkernel::fast());

    // 8x15 outputs are 15 tiles, fewer than one GEMM panel: the automatic choice keeps the GEMM path.
    Conv2d small(stride2(16, 16, {1, 1}));
    small.forward(random_tensor({2, 16, 16, 30}, 6));
    CHECK_FALSE(small.last_polyphase());
    // Few input channels (a first layer) stay on the GEMM path too.
    Conv2d thin(stride2(1, 16, {1, 1}));
    thin.forward(random_tensor({1, 1, 200, 200}, 7));
    CHECK_FALSE(thin.last_polyphase());
}

TEST_CASE("polyphase conv: finite differences, and the same bits with 1 and 2 threads") {
    for (const Conv2dOptions& o : {stride2(8, 9, {1, 1}), stride2(8, 5, {0, 1}, false)}) {
        Conv2d conv(o);
        conv.set_algorithm(ConvAlgorithm::winograd_f2);
        conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 3, -0.5f, 0.5f));
        const Tensor x = random_tensor({2, 8, 9, 12}, 4);
        const auto e = gradcheck(conv, x, 3, 1e-2f, 80);
        CHECK(conv.last_polyphase());
        CHECK(e.input < 2e-3);
        CHECK(e.param < 2e-3);
    }

    Conv2d big(stride2(24, 32, {1, 1}));
    big.set_algorithm(ConvAlgorithm::winograd_f2);
    big.weight().value.copy_from(random_tensor(big.weight().shape(), 5, -0.5f, 0.5f));
    const Tensor xb = random_tensor({3, 24, 41, 70}, 6);
    const Tensor gy = random_tensor({3, 32, 21, 35}, 7);
    const std::vector<Tensor> runs = passes_per_thread_count(big, xb, gy, {1, 2});
    CHECK(big.last_polyphase());
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = 0; i < runs[k].size(); ++i) REQUIRE(runs[k][i] == runs[k + 3][i]);
}

TEST_CASE("polyphase conv: the phases cover every input position and no tap twice") {
    // A single nonzero tap of the kernel and a single nonzero input: the output is that one product at the
    // one place the direct formula puts it, for every tap and pad.
    for (std::int64_t pad : {0, 1})
        for (int tap = 0; tap < 9; ++tap) {
            const polyphase::Problem p{.c_in = 1, .c_out = 1, .h = 7, .w = 8, .out_h = (7 + 2 * pad - 3) / 2 + 1,
                                       .out_w = (8 + 2 * pad - 3) / 2 + 1, .pad_top = pad, .pad_left = pad};
            REQUIRE(polyphase::supported(p));
            std::vector<float> w(9, 0.0f), x(56, 0.0f), y(static_cast<std::size_t>(p.out_h * p.out_w), 9.0f);
            w[static_cast<std::size_t>(tap)] = 2.0f;
            for (std::int64_t i = 0; i < p.out_h; ++i)
                for (std::int64_t j = 0; j < p.out_w; ++j) {
                    const std::int64_t ih = 2 * i - pad + tap / 3, iw = 2 * j - pad + tap % 3;
                    if (ih < 0 || ih >= 7 || iw < 0 || iw >= 8) continue;
                    std::fill(x.begin(), x.end(), 0.0f);
                    x[static_cast<std::size_t>(ih * 8 + iw)] = 3.0f;
                    polyphase::forward(p, 1, x.data(), w.data(), y.data());
                    for (std::int64_t k = 0; k < p.out_h * p.out_w; ++k)
                        REQUIRE(y[static_cast<std::size_t>(k)] ==
                                Approx(k == i * p.out_w + j ? 6.0f : 0.0f).margin(1e-6));
                }
        }
}
