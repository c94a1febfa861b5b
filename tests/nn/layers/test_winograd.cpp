#include "nn/layers/winograd.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/conv_twins.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/microkernel.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;
using mtag::nn::test::require_same_passes;
using mtag::nn::test::same_random_parameters;

namespace {

// Direct correlation in double: y(s, co, i, j) = sum w(co, ci, a, b) x(s, ci, i - pt + a, j - pl + b).
std::vector<double> direct(const winograd::Problem& p, std::int64_t n, const std::vector<float>& x,
                           const std::vector<float>& w, int kh, int kw) {
    std::vector<double> y(static_cast<std::size_t>(n * p.c_out * p.out_h * p.out_w), 0.0);
    for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t co = 0; co < p.c_out; ++co)
            for (std::int64_t i = 0; i < p.out_h; ++i)
                for (std::int64_t j = 0; j < p.out_w; ++j) {
                    double acc = 0.0;
                    for (std::int64_t ci = 0; ci < p.c_in; ++ci)
                        for (int a = 0; a < kh; ++a)
                            for (int b = 0; b < kw; ++b) {
                                const std::int64_t ih = i - p.pad_top + a, iw = j - p.pad_left + b;
                                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                                acc +=
                                    double(x[static_cast<std::size_t>(((s * p.c_in + ci) * p.h + ih) * p.w +
                                                                      iw)]) *
                                    double(
                                        w[static_cast<std::size_t>(((co * p.c_in + ci) * kh + a) * kw + b)]);
                            }
                    y[static_cast<std::size_t>(((s * p.c_out + co) * p.out_h + i) * p.out_w + j)] = acc;
                }
    return y;
}

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
    const Tensor t = random_tensor({static_cast<std::int64_t>(n)}, seed);
    return {t.data(), t.data() + n};
}

// Largest |y - ref| relative to max |ref|.
double relative_error(const std::vector<float>& y, const std::vector<double>& ref) {
    double worst = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        worst = std::max(worst, std::abs(double(y[i]) - ref[i]));
        scale = std::max(scale, std::abs(ref[i]));
    }
    return worst / scale;
}

}  // namespace

TEST_CASE("winograd: every tile matches a direct convolution (odd sizes, padding, batch, channels)") {
    struct Case {
        winograd::Tile tile;
        double tolerance;  // max error relative to max |y|
    };
    const std::vector<Case> tiles = {{winograd::Tile::f2x2_3x3, 1e-5},
                                     {winograd::Tile::f4x4_3x3, 1e-4},
                                     {winograd::Tile::f2_3, 1e-5},
                                     {winograd::Tile::f4_3, 1e-5},
                                     {winograd::Tile::f3_4, 1e-5},
                                     // the phases of stride-2 3x3 layers (nn/layers/polyphase_conv.hpp)
                                     {winograd::Tile::f3x3_2x2, 1e-5},
                                     {winograd::Tile::f3x3_2x1, 1e-5},
                                     {winograd::Tile::f3x3_1x2, 1e-5},
                                     {winograd::Tile::f3x3_1x1, 1e-5}};
    for (const Case& t : tiles) {
        const bool two_d = t.tile != winograd::Tile::f2_3 && t.tile != winograd::Tile::f4_3 &&
                           t.tile != winograd::Tile::f3_4;
        const int kh = winograd::kernel_height(t.tile), kw = winograd::kernel_width(t.tile);
        // (c_in, c_out, h, w, pad_top, pad_left, pad_bottom, pad_right, batch); pads outside [0, kw - 1]
        // are what the input-gradient problem produces.
        struct Shape2 {
            std::int64_t ci, co, h, w, pt, pl, pb, pr, n;
        };
        std::vector<Shape2> shapes = {{5, 13, 7, 11, 1, 1, 1, 1, 1}, {16, 8, 9, 70, 0, 0, 0, 0, 3},
                                      {3, 9, 6, 37, 2, 2, 2, 2, 2},  {8, 16, 13, 5, 1, 0, 0, 1, 1},
                                      {1, 1, 5, 200, 1, 1, 1, 1, 1}, {12, 17, 4, 33, 1, 1, 0, 2, 2},
                                      {7, 9, 6, 41, 0, 3, 0, 3, 2},
                                      // several channel groups of the weight gradient, the last one partial
                                      {70, 20, 5, 30, 1, 1, 1, 1, 2},
                                      // weight-gradient blocks that span samples and split one mid-way
                                      // (2-D: more tiles than a block; 1-D: one block over the batch)
                                      {64, 64, 9, 300, 1, 1, 1, 1, 3}};
        for (Shape2 s : shapes) {
            if (!two_d) s.h = 1 + s.h % 2, s.pt = s.pb = 0;
            winograd::Problem p{
                .c_in = s.ci, .c_out = s.co, .h = s.h, .w = s.w, .pad_top = s.pt, .pad_left = s.pl};
            p.out_h = s.h + s.pt + s.pb - (kh - 1);
            p.out_w = s.w + s.pl + s.pr - (kw - 1);
            const auto x = random_vector(static_cast<std::size_t>(s.n * s.ci * s.h * s.w), 3);
            const auto w = random_vector(static_cast<std::size_t>(s.co * s.ci * kh * kw), 4);
            std::vector<float> u(winograd::packed_weight_size(t.tile, s.co, s.ci));
            winograd::transform_weights(t.tile, w.data(), s.co, s.ci, false, u.data());
            std::vector<float> y(static_cast<std::size_t>(s.n * s.co * p.out_h * p.out_w), -7.0f);
            winograd::convolve(t.tile, p, s.n, x.data(), u.data(), y.data());
            const double err = relative_error(y, direct(p, s.n, x, w, kh, kw));
            INFO(winograd::name(t.tile) << " c_in " << s.ci << " c_out " << s.co << " map " << s.h << "x"
                                        << s.w << " pads " << s.pt << "," << s.pl << " error " << err);
            CHECK(err < t.tolerance);

            // The weight gradient against direct sums over samples and positions.
            const auto gy = random_vector(y.size(), 6);
            std::vector<float> gw(w.size(), 0.5f);
            winograd::weight_gradient(t.tile, p, s.n, x.data(), gy.data(), gw.data());
            double gw_err = 0.0, gw_scale = 0.0;
            for (std::int64_t co = 0; co < s.co; ++co)
                for (std::int64_t ci = 0; ci < s.ci; ++ci)
                    for (int a = 0; a < kh; ++a)
                        for (int b = 0; b < kw; ++b) {
                            double acc = 0.0;
                            for (std::int64_t sm = 0; sm < s.n; ++sm)
                                for (std::int64_t i = 0; i < p.out_h; ++i)
                                    for (std::int64_t j = 0; j < p.out_w; ++j) {
                                        const std::int64_t ih = i - s.pt + a, iw = j - s.pl + b;
                                        if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                                        acc += double(gy[static_cast<std::size_t>(
                                                   ((sm * s.co + co) * p.out_h + i) * p.out_w + j)]) *
                                               double(x[static_cast<std::size_t>(
                                                   ((sm * s.ci + ci) * s.h + ih) * s.w + iw)]);
                                    }
                            const auto k = static_cast<std::size_t>(((co * s.ci + ci) * kh + a) * kw + b);
                            gw_err = std::max(gw_err,
                                              std::abs(double(gw[k]) - 0.5 - acc));  // accumulates onto 0.5
                            gw_scale = std::max(gw_scale, std::abs(acc));
                        }
            CHECK(gw_err / gw_scale < t.tolerance);

            // flip_transpose gives the kernel w'(ci, co, a, b) = w(co, ci, kh-1-a, kw-1-b).
            std::vector<float> wf(w.size());
            for (std::int64_t co = 0; co < s.co; ++co)
                for (std::int64_t ci = 0; ci < s.ci; ++ci)
                    for (int a = 0; a < kh; ++a)
                        for (int b = 0; b < kw; ++b)
                            wf[static_cast<std::size_t>(((ci * s.co + co) * kh + a) * kw + b)] =
                                w[static_cast<std::size_t>(((co * s.ci + ci) * kh + (kh - 1 - a)) * kw +
                                                           (kw - 1 - b))];
            winograd::Problem q = p;  // the flipped problem reads s.co channels and writes s.ci
            q.c_in = s.co;
            q.c_out = s.ci;
            const auto x2 = random_vector(static_cast<std::size_t>(s.n * s.co * s.h * s.w), 5);
            std::vector<float> u2(winograd::packed_weight_size(t.tile, s.ci, s.co));
            winograd::transform_weights(t.tile, w.data(), s.ci, s.co, true, u2.data());
            std::vector<float> y2(static_cast<std::size_t>(s.n * s.ci * q.out_h * q.out_w));
            winograd::convolve(t.tile, q, s.n, x2.data(), u2.data(), y2.data());
            CHECK(relative_error(y2, direct(q, s.n, x2, wf, kh, kw)) < t.tolerance);
        }
    }
}

TEST_CASE(
    "winograd: every micro-kernel this CPU runs agrees with the portable one, the vector ones bit for bit") {
    using microkernel::mr;
    using microkernel::nr;
    const std::int64_t k = 37;
    const auto a = random_vector(static_cast<std::size_t>(k * mr), 1);
    const Tensor bt = random_tensor({k * nr}, 2);  // 64-byte aligned, as the packed panels are
    const auto kernels = microkernel::available_kernels();
    REQUIRE(kernels.back().name == "portable");
    CHECK(kernels.front().name == microkernel::kernel_name());
    for (bool accumulate : {false, true}) {
        std::vector<float> reference(mr * 40, 1.0f);
        microkernel::portable_kernel(k, a.data(), bt.data(), reference.data(), 40, accumulate);
        std::vector<float> first_vector;
        for (const auto& named : kernels) {
            INFO("kernel " << named.name << ", accumulate " << accumulate);
            std::vector<float> c(mr * 40, 1.0f);
            named.kernel(k, a.data(), bt.data(), c.data(), 40, accumulate);
            for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == Approx(reference[i]).margin(1e-5));
            for (std::int64_t i = 0; i < mr; ++i)
                for (std::int64_t j = nr; j < 40; ++j)
                    REQUIRE(c[i * 40 + j] == 1.0f);  // columns past nr untouched
            if (named.name == "portable") continue;
            // AVX-512 and AVX2 run the same FMA chain per element of C.
            if (first_vector.empty()) first_vector = c;
            for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == first_vector[i]);
        }
    }
}

TEST_CASE("winograd: Conv2d and Conv1d give the GEMM path's outputs and gradients with every algorithm") {
    const std::vector<ConvAlgorithm> algorithms = {ConvAlgorithm::winograd_f2, ConvAlgorithm::winograd_f4,
                                                   ConvAlgorithm::automatic};
    for (ConvAlgorithm algo : algorithms) {
        // 2-D: 3x3, padding 1 and 0, 'same', odd map sizes, batch 1 and 3.
        const std::vector<Conv2dOptions> cases2 = {
            {.in_channels = 9, .out_channels = 10, .padding = {1, 1}},
            {.in_channels = 8, .out_channels = 8, .padding = {0, 0}, .bias = false},
            {.in_channels = 12, .out_channels = 9, .padding = {2, 1}},
            {.in_channels = 8, .out_channels = 11, .kernel_size = {1, 3}, .padding = {0, 1}},
        };
        for (const Conv2dOptions& o : cases2)
            for (std::int64_t batch : {1, 3}) {
                Conv2d ref(o), conv(o);
                ref.set_algorithm(ConvAlgorithm::gemm);
                conv.set_algorithm(algo);
                same_random_parameters(ref, conv, 8);
                const Tensor x = random_tensor({batch, o.in_channels, 11, 19}, 10);
                require_same_passes(ref, conv, x, 11, 2e-5, 1e-5);
                CHECK(conv.last_winograd_tile().has_value() ==
                      (algo != ConvAlgorithm::automatic || microkernel::fast()));
                const auto e = gradcheck(conv, x, 3, 1e-2f, 60);
                CHECK(e.input < 2e-3);
                CHECK(e.param < 2e-3);
            }
        // 1-D: k3 with padding 0, 1, 2, 'same', k4 with padding 0, 3, 'same' (uneven: 1 left, 2 right), a
        // long map over several tile blocks.
        const std::vector<Conv1dOptions> cases1 = {
            {.in_channels = 16, .out_channels = 8, .kernel_size = 3, .padding = 1},
            {.in_channels = 9, .out_channels = 13, .kernel_size = 3, .padding = 0},
            {.in_channels = 8, .out_channels = 8, .kernel_size = 3, .padding = 2, .bias = false},
            {.in_channels = 10, .out_channels = 9, .kernel_size = 3, .padding_same = true},
            {.in_channels = 12, .out_channels = 9, .kernel_size = 4, .padding = 0},
            {.in_channels = 8, .out_channels = 16, .kernel_size = 4, .padding = 3, .bias = false},
            {.in_channels = 9, .out_channels = 8, .kernel_size = 4, .padding_same = true},
        };
        for (const Conv1dOptions& o : cases1)
            for (std::int64_t length : {29, 2503}) {
                Conv1d ref(o), conv(o);
                ref.set_algorithm(ConvAlgorithm::gemm);
                conv.set_algorithm(algo);
                ref.weight().value.copy_from(random_tensor(ref.weight().shape(), 12, -0.5f, 0.5f));
                conv.weight().value.copy_from(ref.weight().value);
                const Tensor x = random_tensor({2, o.in_channels, length}, 13);
                require_same_passes(ref, conv, x, 14, 2e-5, 1e-5);
                if (o.kernel_size == 4 && length > 100 && (algo != ConvAlgorithm::automatic || microkernel::fast()))
                    CHECK(conv.last_winograd_tile() == winograd::Tile::f3_4);
                if (length < 100) {
                    const auto e = gradcheck(conv, x, 3, 1e-2f, 60);
                    CHECK(e.input < 2e-3);
                    CHECK(e.param < 2e-3);
                }
            }
    }
}

TEST_CASE("winograd: bit-identical outputs and gradients with 1 and 2 threads") {
    for (ConvAlgorithm algo : {ConvAlgorithm::winograd_f2, ConvAlgorithm::winograd_f4}) {
        Conv2d conv({.in_channels = 16, .out_channels = 24, .padding = {1, 1}});
        conv.set_algorithm(algo);
        conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 4));
        const Tensor x = random_tensor({3, 16, 21, 67}, 6);
        const Tensor gy = random_tensor({3, 24, 21, 67}, 7);
        set_thread_budget(1);
        const Tensor a = conv.forward(x).clone();
        conv.zero_grad();
        const Tensor ga = conv.backward(gy).clone();
        const Tensor wa = conv.weight().grad.clone();
        set_thread_budget(2);
        const Tensor b = conv.forward(x).clone();
        conv.zero_grad();
        const Tensor gb = conv.backward(gy).clone();
        const Tensor wb = conv.weight().grad.clone();
        set_thread_budget(1);
        for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == b[i]);
        for (std::size_t i = 0; i < ga.size(); ++i) REQUIRE(ga[i] == gb[i]);
        for (std::size_t i = 0; i < wa.size(); ++i) REQUIRE(wa[i] == wb[i]);
    }
}

TEST_CASE("winograd: short 1-D maps run end to end over the batch (cnn1d's later layers)") {
    // Maps with too few tiles per sample for Winograd alone (cnn1d: 22 and 9 frames) are laid end to end,
    // each with its own padding, as one long map; the outputs straddling two samples are dropped. Outputs
    // and both gradients against the GEMM path, gradients against finite differences, the bias included.
    struct Case {
        Conv1dOptions o;
        std::int64_t batch, length;
        winograd::Tile tile;
    };
    const std::vector<Case> cases = {
        {{.in_channels = 16, .out_channels = 16, .kernel_size = 4}, 6, 22, winograd::Tile::f3_4},
        {{.in_channels = 12, .out_channels = 9, .kernel_size = 4}, 12, 9, winograd::Tile::f3_4},
        {{.in_channels = 9, .out_channels = 10, .kernel_size = 3, .padding = 1}, 8, 20, winograd::Tile::f4_3},
        {{.in_channels = 8, .out_channels = 11, .kernel_size = 4, .padding_same = true}, 6, 16, winograd::Tile::f3_4},
    };
    for (const Case& c : cases) {
        Conv1d ref(c.o), conv(c.o);
        ref.set_algorithm(ConvAlgorithm::gemm);
        same_random_parameters(ref, conv, 31);
        const Tensor x = random_tensor({c.batch, c.o.in_channels, c.length}, 32);
        require_same_passes(ref, conv, x, 33, 2e-5, 1e-5);
        CHECK(conv.last_batch_concatenated() == microkernel::fast());
        if (microkernel::fast()) CHECK(conv.last_winograd_tile() == c.tile);
        const auto e = gradcheck(conv, x, 3, 1e-2f, 60);
        CHECK(e.input < 2e-3);
        CHECK(e.param < 2e-3);
    }
    // A clip gets bit-identical outputs alone and at any place in any batch (tagging one file equals
    // tagging it among others): the path and the tiles depend on the layer's shape, not on the batch.
    // This needs a vector micro-kernel (AVX-512 or AVX2 + FMA): on a CPU with neither (MTAG_CPU=portable)
    // these layers take im2col + OpenBLAS, whose blocking depends on the batch, and outputs can differ in
    // the last bit (docs/performance.md, "CPUs").
    if (!microkernel::fast()) {
        WARN("no vector micro-kernel: alone-equals-in-a-batch is not guaranteed and not checked");
        return;
    }
    for (const Case& c : cases) {
        Conv1d conv(c.o);
        conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 36));
        const Tensor batch = random_tensor({c.batch, c.o.in_channels, c.length}, 37);
        const Tensor all = conv.forward(batch).clone();
        const std::int64_t per_in = c.o.in_channels * c.length, per_out = all.size() / c.batch;
        for (std::int64_t b : {std::int64_t{0}, c.batch - 1}) {
            Tensor one({1, c.o.in_channels, c.length});
            std::copy_n(batch.data() + b * per_in, per_in, one.data());
            const Tensor alone = conv.forward(one).clone();
            CHECK(conv.last_batch_concatenated() == microkernel::fast());
            for (std::int64_t i = 0; i < per_out; ++i) REQUIRE(alone[i] == all[b * per_out + i]);
        }
    }
    // Mostly dropped outputs (1 wanted of 6) keep the GEMM path.
    Conv1d sparse({.in_channels = 16, .out_channels = 16, .kernel_size = 4});
    sparse.forward(random_tensor({64, 16, 4}, 35));
    CHECK_FALSE(sparse.last_batch_concatenated());
}

TEST_CASE("winograd: the batch end to end gives bit-identical results with 1 and 2 threads") {
    Conv1d conv({.in_channels = 32, .out_channels = 24, .kernel_size = 4});
    conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 4));
    const Tensor x = random_tensor({16, 32, 22}, 6);
    const Tensor gy = random_tensor({16, 24, 19}, 7);
    set_thread_budget(1);
    const Tensor a = conv.forward(x).clone();
    conv.zero_grad();
    const Tensor ga = conv.backward(gy).clone();
    const Tensor wa = conv.weight().grad.clone();
    set_thread_budget(2);
    const Tensor b = conv.forward(x).clone();
    conv.zero_grad();
    const Tensor gb = conv.backward(gy).clone();
    const Tensor wb = conv.weight().grad.clone();
    set_thread_budget(1);
    for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == b[i]);
    for (std::size_t i = 0; i < ga.size(); ++i) REQUIRE(ga[i] == gb[i]);
    for (std::size_t i = 0; i < wa.size(); ++i) REQUIRE(wa[i] == wb[i]);
}
