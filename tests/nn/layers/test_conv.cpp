#include "nn/layers/conv.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

namespace {

void randomize(Module& m, std::uint64_t seed) {
    for (Parameter* p : m.parameters()) p->value.copy_from(random_tensor(p->shape(), seed++, -0.5f, 0.5f));
}

// Direct (naive) Conv2d for reference.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const ConvGeometry& g) {
    const auto n = x.dim(0), h = x.dim(2), wd = x.dim(3), oh = g.out_h(h), ow = g.out_w(wd);
    Tensor y({n, g.c_out, oh, ow});
    for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t co = 0; co < g.c_out; ++co)
            for (std::int64_t i = 0; i < oh; ++i)
                for (std::int64_t j = 0; j < ow; ++j) {
                    double acc = b ? (*b)[static_cast<std::size_t>(co)] : 0.0f;
                    for (std::int64_t ci = 0; ci < g.c_in; ++ci)
                        for (std::int64_t a = 0; a < g.kh; ++a)
                            for (std::int64_t c = 0; c < g.kw; ++c) {
                                const auto ih = i * g.sh - g.pad_top + a * g.dh,
                                           iw = j * g.sw - g.pad_left + c * g.dw;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                acc += double(x.at(s, ci, ih, iw)) * double(w.at(co, ci, a, c));
                            }
                    y.at(s, co, i, j) = static_cast<float>(acc);
                }
    return y;
}

}  // namespace

TEST_CASE("conv: Conv2d forward equals a direct convolution (stride, padding, dilation, same)") {
    struct Case {
        Conv2dOptions o;
        std::int64_t h, w;
    };
    const std::vector<Case> cases = {
        {{.in_channels = 2, .out_channels = 3}, 7, 9},
        {{.in_channels = 3, .out_channels = 4, .kernel_size = {3, 2}, .stride = {2, 3}, .padding = {1, 2}},
         9,
         11},
        {{.in_channels = 2, .out_channels = 2, .kernel_size = {3, 3}, .padding = {2, 1}, .dilation = {2, 3}},
         8,
         10},
        {{.in_channels = 2, .out_channels = 3, .kernel_size = {4, 3}, .padding_same = true}, 6, 7},
        {{.in_channels = 5, .out_channels = 3, .kernel_size = {1, 1}, .bias = false}, 4, 5},
    };
    for (const Case& c : cases) {
        Conv2d conv(c.o);
        randomize(conv, 3);
        const Tensor x = random_tensor({2, c.o.in_channels, c.h, c.w}, 11);
        const Tensor y = conv.forward(x);
        const Tensor ref = naive_conv2d(x, conv.weight().value, conv.bias() ? &conv.bias()->value : nullptr,
                                        conv.geometry());
        REQUIRE(y.shape() == ref.shape());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(ref[i]).margin(1e-5));
        if (c.o.padding_same) CHECK(y.shape() == Shape({2, 3, 6, 7}));
    }
}

TEST_CASE("conv: Conv2d gradients match finite differences") {
    const std::vector<Conv2dOptions> cases = {
        {.in_channels = 2, .out_channels = 3},
        {.in_channels = 3, .out_channels = 2, .kernel_size = {3, 2}, .stride = {2, 3}, .padding = {1, 2}},
        {.in_channels = 2, .out_channels = 2, .kernel_size = {2, 3}, .padding = {1, 1}, .dilation = {2, 2}},
        {.in_channels = 2, .out_channels = 3, .kernel_size = {4, 3}, .padding_same = true},
        {.in_channels = 3, .out_channels = 2, .kernel_size = {1, 1}},
    };
    for (const Conv2dOptions& o : cases) {
        Conv2d conv(o);
        randomize(conv, 5);
        const auto e = gradcheck(conv, random_tensor({2, o.in_channels, 7, 9}, 13));
        CHECK(e.input < 2e-3);
        CHECK(e.param < 2e-3);
    }
}

TEST_CASE("conv: Conv1d gradients, strided sample-level path and odd sizes") {
    const std::vector<Conv1dOptions> cases = {
        {.in_channels = 1, .out_channels = 4, .kernel_size = 3, .stride = 3},  // zero-copy strided path
        {.in_channels = 3, .out_channels = 4, .kernel_size = 3, .padding = 1},
        {.in_channels = 2, .out_channels = 3, .kernel_size = 4, .stride = 2, .padding = 2, .dilation = 2},
        {.in_channels = 2, .out_channels = 3, .kernel_size = 4, .padding_same = true},
        {.in_channels = 4, .out_channels = 2, .kernel_size = 1},
        {.in_channels = 16, .out_channels = 5, .kernel_size = 3, .padding = 1},  // shifted-taps path
        {.in_channels = 16, .out_channels = 3, .kernel_size = 4, .dilation = 3, .padding_same = true},
        {.in_channels = 17, .out_channels = 2, .kernel_size = 5, .padding = 0},
    };
    for (const Conv1dOptions& o : cases) {
        Conv1d conv(o);
        randomize(conv, 9);
        const Tensor x = random_tensor({3, o.in_channels, 29}, 17);
        const auto e = gradcheck(conv, x, 7, 1e-2f, 200);
        CHECK(e.input < 2e-3);
        CHECK(e.param < 2e-3);
        // Against a direct convolution.
        const Tensor direct =
            naive_conv2d(x.view({3, o.in_channels, 1, 29}),
                         conv.weight().value.view({o.out_channels, o.in_channels, 1, o.kernel_size}),
                         &conv.bias()->value, conv.geometry());
        const Tensor y0 = conv.forward(x);
        REQUIRE(y0.size() == direct.size());
        for (std::size_t i = 0; i < y0.size(); ++i) REQUIRE(y0[i] == Approx(direct[i]).margin(1e-5));
        // Conv1d equals Conv2d on a (1, L) map.
        Conv2d c2({.in_channels = o.in_channels,
                   .out_channels = o.out_channels,
                   .kernel_size = {1, o.kernel_size},
                   .stride = {1, o.stride},
                   .padding = {0, o.padding},
                   .dilation = {1, o.dilation},
                   .padding_same = o.padding_same});
        c2.weight().value.copy_from(conv.weight().value);
        c2.bias()->value.copy_from(conv.bias()->value);
        const Tensor y1 = conv.forward(x);
        const Tensor y2 = c2.forward(x.view({3, o.in_channels, 1, 29}));
        REQUIRE(y1.size() == y2.size());
        for (std::size_t i = 0; i < y1.size(); ++i) REQUIRE(y1[i] == Approx(y2[i]).margin(1e-5));
    }
}

TEST_CASE(
    "conv: every GEMM path (grouped small maps, per-sample tiles, shifted taps) agrees with a direct "
    "convolution") {
    // Long 1-D maps take the shifted-taps path per sample; short ones are grouped across the batch.
    for (std::int64_t length : {2100, 40}) {
        for (std::int64_t batch : {1, 3}) {
            Conv1d conv(
                {.in_channels = 16, .out_channels = 6, .kernel_size = 3, .padding = 2, .dilation = 2});
            randomize(conv, 21);
            const Tensor x = random_tensor({batch, 16, length}, 22);
            const Tensor y = conv.forward(x);
            const Tensor ref =
                naive_conv2d(x.view({batch, 16, 1, length}), conv.weight().value.view({6, 16, 1, 3}),
                             &conv.bias()->value, conv.geometry());
            REQUIRE(y.size() == ref.size());
            for (std::size_t i = 0; i < y.size(); i += 7) REQUIRE(y[i] == Approx(ref[i]).margin(1e-4));
            const auto e = gradcheck(conv, x, 3, 1e-2f, 40);
            CHECK(e.input < 2e-3);
            CHECK(e.param < 2e-3);
        }
    }
    // A 2-D map large enough to be split into several row tiles.
    Conv2d big({.in_channels = 8, .out_channels = 4, .padding = {1, 1}});
    randomize(big, 23);
    const Tensor x = random_tensor({1, 8, 70, 120}, 24);
    const Tensor y = big.forward(x);
    const Tensor ref = naive_conv2d(x, big.weight().value, &big.bias()->value, big.geometry());
    for (std::size_t i = 0; i < y.size(); i += 13) REQUIRE(y[i] == Approx(ref[i]).margin(1e-4));
    const auto e = gradcheck(big, x, 3, 1e-2f, 30);
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);
}

TEST_CASE("conv: frozen weights and no input gradient skip work, bad shapes are rejected") {
    Conv2d conv({.in_channels = 2, .out_channels = 2});
    randomize(conv, 1);
    conv.freeze();
    conv.set_input_grad(false);
    const Tensor x = random_tensor({1, 2, 5, 5}, 2);
    const Tensor y = conv.forward(x);
    CHECK_FALSE(conv.backward(y).defined());
    for (float g : conv.weight().grad.span()) CHECK(g == 0.0f);
    CHECK_THROWS_AS(conv.forward(random_tensor({1, 3, 5, 5}, 2)), mtag::Error);
    CHECK_THROWS_AS(conv.forward(random_tensor({1, 2, 2, 2}, 2)), mtag::Error);
    CHECK_THROWS_AS(Conv2d({.in_channels = 1, .out_channels = 1, .stride = {2, 2}, .padding_same = true}),
                    mtag::Error);
}

TEST_CASE("conv: same result with 1 and 2 threads") {
    Conv2d conv({.in_channels = 3, .out_channels = 8, .padding = {1, 1}});
    randomize(conv, 4);
    const Tensor x = random_tensor({2, 3, 20, 30}, 6);
    set_thread_budget(1);
    const Tensor a = conv.forward(x).clone();
    set_thread_budget(2);
    const Tensor b = conv.forward(x).clone();
    set_thread_budget(1);
    for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).margin(1e-5));
}

TEST_CASE("conv: strided phase path on 2-D maps (kernel (1, k) == stride) with tail columns") {
    // Several rows per map and columns past the last window: both gradients against finite differences,
    // and the forward pass against a direct convolution.
    Conv2d conv({.in_channels = 2, .out_channels = 5, .kernel_size = {1, 3}, .stride = {1, 3}});
    randomize(conv, 4);
    const Tensor x = random_tensor({2, 2, 4, 11}, 5);
    const auto e = gradcheck(conv, x, 7, 1e-2f, 200);
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);
    const Tensor direct = naive_conv2d(x, conv.weight().value, &conv.bias()->value, conv.geometry());
    const Tensor y = conv.forward(x);
    REQUIRE(y.size() == direct.size());
    for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(direct[i]).margin(1e-5));
}

TEST_CASE("conv: backward_accumulate adds the input gradient into a given tensor, bit for bit backward() + add") {
    // Every input-gradient path: polyphase and Winograd (added in place), GEMM, direct 3x3 and 1-D shifted taps
    // (computed apart, then added).
    struct Case {
        Conv2dOptions o;
        ConvAlgorithm algorithm;
        Shape x;
    };
    const std::vector<Case> cases = {
        {{.in_channels = 8, .out_channels = 12, .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
         ConvAlgorithm::winograd_f2, {2, 8, 13, 18}},
        {{.in_channels = 8, .out_channels = 12, .kernel_size = {3, 3}, .padding = {1, 1}}, ConvAlgorithm::winograd_f4,
         {2, 8, 13, 18}},
        {{.in_channels = 8, .out_channels = 12, .kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}},
         ConvAlgorithm::gemm, {2, 8, 13, 18}},
        {{.in_channels = 2, .out_channels = 8, .kernel_size = {3, 3}, .padding = {1, 1}}, ConvAlgorithm::automatic,
         {2, 2, 16, 20}},
        {{.in_channels = 16, .out_channels = 16, .kernel_size = {1, 5}}, ConvAlgorithm::gemm, {2, 16, 1, 40}},
    };
    for (const Case& c : cases) {
        INFO("kernel " << c.o.kernel_size[0] << "x" << c.o.kernel_size[1] << " stride " << c.o.stride[0]
                       << " algorithm " << static_cast<int>(c.algorithm));
        Conv2d a(c.o), b(c.o);
        a.set_algorithm(c.algorithm);
        b.set_algorithm(c.algorithm);
        const Tensor w = random_tensor(a.weight().shape(), 1, -0.5f, 0.5f);
        a.weight().value.copy_from(w);
        b.weight().value.copy_from(w);
        const Tensor x = random_tensor(c.x, 2);
        const Tensor y = a.forward(x);
        b.forward(x);
        const Tensor gy = random_tensor(y.shape(), 3);
        const Tensor other = random_tensor(c.x, 4);  // the other branch's gradient
        Tensor expected = a.backward(gy);
        for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += other[i];
        Tensor into(c.x);
        into.copy_from(other);
        const Tensor got = b.backward_accumulate(gy, into);
        CHECK(got.data() == into.data());  // no new input-sized tensor
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == expected[i]);
        for (std::size_t i = 0; i < w.size(); ++i) REQUIRE(b.weight().grad[i] == a.weight().grad[i]);
        CHECK_THROWS_WITH(b.backward_accumulate(gy, Tensor(c.x)), Catch::Matchers::Contains("backward() without a forward()"));
    }
    Conv2d conv({.in_channels = 4, .out_channels = 4, .kernel_size = {3, 3}, .padding = {1, 1}});
    conv.forward(random_tensor({1, 4, 6, 6}, 5));
    CHECK_THROWS_WITH(conv.backward_accumulate(random_tensor({1, 4, 6, 6}, 6), Tensor({1, 4, 6, 5})),
                      Catch::Matchers::Contains("the gradient to add into has shape"));
}
