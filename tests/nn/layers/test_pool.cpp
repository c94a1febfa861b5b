#include "nn/layers/pool.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/inference_mode.hpp"
#include "nn/switching.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

namespace {
// Distinct values (a shuffled ramp) so max pooling has a unique maximum per window.
Tensor distinct(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    std::vector<float> v(t.size());
    std::iota(v.begin(), v.end(), 0.0f);
    std::mt19937_64 rng(seed);
    std::shuffle(v.begin(), v.end(), rng);
    for (std::size_t i = 0; i < v.size(); ++i) t[i] = v[i] * 0.1f;
    return t;
}

// Small integers (many ties in every window), with NaN and -inf at about 1 in 29 elements each.
Tensor ties_nan_inf(const Shape& shape, std::uint64_t seed) {
    Tensor t(shape);
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto r = rng() % 29;
        t[i] = r == 0 ? std::numeric_limits<float>::quiet_NaN()
                      : r == 1 ? -std::numeric_limits<float>::infinity() : static_cast<float>(r % 5);
    }
    return t;
}
}  // namespace

TEST_CASE("pool: output sizes follow PyTorch including ceil_mode") {
    CHECK(pool_output_size(1366, 4, 4, 0, false) == 341);
    CHECK(pool_output_size(7, 2, 2, 0, true) == 4);
    CHECK(pool_output_size(7, 2, 2, 0, false) == 3);
    CHECK(pool_output_size(5, 3, 2, 1, true) == 3);  // last window would start in the right padding
    CHECK(pool_output_size(6, 3, 2, 1, true) == 4);
    CHECK(pool_output_size(10, 3, 3, 0, true) == 4);
    MaxPool2d p({.kernel_size = {2, 4}});
    CHECK(p.forward(Tensor({1, 1, 96, 1366})).shape() == Shape({1, 1, 48, 341}));
    CHECK_THROWS_AS(MaxPool2d({.kernel_size = {2, 2}, .padding = {2, 0}}), mtag::Error);
}

TEST_CASE("pool: max and average pooling values") {
    const Tensor x = Tensor::from({1, 1, 2, 4}, std::vector<float>{1, 5, 2, 0, 3, 4, 8, 7});
    MaxPool2d mp({.kernel_size = {2, 2}});
    const Tensor y = mp.forward(x);
    CHECK(y[0] == 5.0f);
    CHECK(y[1] == 8.0f);
    AvgPool2d ap({.kernel_size = {2, 2}, .stride = {1, 2}, .padding = {1, 1}});
    // count_include_pad: the first window covers 3 padded and 1 real element: 1/4.
    const Tensor a = ap.forward(x);
    CHECK(a.shape() == Shape({1, 1, 3, 3}));
    CHECK(a[0] == Approx(0.25));
    AdaptiveAvgPool1d ad(3);
    const Tensor z = ad.forward(Tensor::from({1, 1, 5}, std::vector<float>{1, 2, 3, 4, 5}));
    // windows [0,2) [1,4) [3,5)
    CHECK(z[0] == Approx(1.5));
    CHECK(z[1] == Approx(3.0));
    CHECK(z[2] == Approx(4.5));
}

TEST_CASE("pool: gradients for max/avg, 1-D/2-D, padding, ceil_mode, adaptive") {
    std::vector<std::shared_ptr<Module>> pools = {
        std::make_shared<MaxPool2d>(
            Pool2dOptions{.kernel_size = {2, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true}),
        std::make_shared<AvgPool2d>(
            Pool2dOptions{.kernel_size = {3, 2}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true}),
        std::make_shared<MaxPool1d>(Pool1dOptions{.kernel_size = 3}),
        std::make_shared<AvgPool1d>(Pool1dOptions{.kernel_size = 3, .stride = 2, .padding = 1}),
        std::make_shared<AdaptiveAvgPool2d>(2, 3),
        std::make_shared<AdaptiveMaxPool2d>(3, 2),
        std::make_shared<AdaptiveAvgPool1d>(4),
        std::make_shared<AdaptiveMaxPool1d>(4),
    };
    for (auto& p : pools) {
        INFO(p->type());
        const bool one_d = p->type().find("1d") != std::string::npos;
        const Tensor x = one_d ? distinct({2, 3, 11}, 3) : distinct({2, 2, 7, 9}, 3);
        const auto e = gradcheck(*p, x, 5, 1e-3f);
        CHECK(e.input < 2e-3);
    }
}

namespace {
// Naive max pooling with PyTorch's rule (take when v > max || isnan(v), row-major window order):
// the output and the input index of every window.
std::pair<std::vector<float>, std::vector<std::int64_t>> naive_max_pool(const Tensor& x, std::int64_t kh, std::int64_t kw,
                                                                        std::int64_t sh, std::int64_t sw) {
    const std::int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
    const std::int64_t oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
    std::vector<float> out;
    std::vector<std::int64_t> where;
    for (std::int64_t p = 0; p < planes; ++p)
        for (std::int64_t i = 0; i < oh; ++i)
            for (std::int64_t j = 0; j < ow; ++j) {
                float best = -std::numeric_limits<float>::infinity();
                std::int64_t at = i * sh * w + j * sw;
                for (std::int64_t r = i * sh; r < i * sh + kh; ++r)
                    for (std::int64_t q = j * sw; q < j * sw + kw; ++q)
                        if (const float v = x[static_cast<std::size_t>(p * h * w + r * w + q)]; v > best || v != v) {
                            best = v;
                            at = r * w + q;
                        }
                out.push_back(best);
                where.push_back(p * h * w + at);
            }
    return {out, where};
}
}  // namespace

TEST_CASE("pool: max pooling keeps PyTorch's selection with ties, NaN and -inf (full-window fast path and general path)") {
    // Few distinct values: many ties; some NaN and -inf.
    Tensor x({2, 3, 9, 14});
    std::mt19937_64 rng(5);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const auto r = rng() % 23;
        x[i] = r == 0 ? std::numeric_limits<float>::quiet_NaN()
                      : r == 1 ? -std::numeric_limits<float>::infinity() : static_cast<float>(r % 4);
    }
    struct Case {
        std::int64_t kh, kw, sh, sw;
        bool ceil;
    };
    // (2,3)/(2,3) and (3,2)/(2,1) have full windows only; ceil_mode with 9 rows adds a clipped window
    // and takes the general path, whose full windows must agree with the reference too.
    for (const Case c : {Case{2, 3, 2, 3, false}, Case{3, 2, 2, 1, false}, Case{2, 4, 2, 4, true}}) {
        MaxPool2d pool({.kernel_size = {c.kh, c.kw}, .stride = {c.sh, c.sw}, .ceil_mode = c.ceil});
        const Tensor y = pool.forward(x);
        Tensor gy(y.shape());
        for (std::size_t i = 0; i < gy.size(); ++i) gy[i] = 1.0f + static_cast<float>(i);
        const Tensor gx = pool.backward(gy);
        const auto [expected, where] = naive_max_pool(x, c.kh, c.kw, c.sh, c.sw);
        const std::int64_t oh = (9 - c.kh) / c.sh + 1, ow = (14 - c.kw) / c.sw + 1;
        for (std::int64_t p = 0; p < 6; ++p)
            for (std::int64_t i = 0; i < oh; ++i)
                for (std::int64_t j = 0; j < ow; ++j) {
                    const std::size_t k = static_cast<std::size_t>((p * oh + i) * ow + j);
                    const std::size_t got = static_cast<std::size_t>((p * y.dim(2) + i) * y.dim(3) + j);
                    INFO("kernel " << c.kh << "x" << c.kw << " window " << p << "," << i << "," << j);
                    if (std::isnan(expected[k])) CHECK(std::isnan(y[got]));
                    else CHECK(y[got] == expected[k]);
                    // The gradient lands on the selected element (non-overlapping windows: only there).
                    if (c.sh >= c.kh && c.sw >= c.kw) CHECK(gx[static_cast<std::size_t>(where[k])] == gy[got]);
                }
    }
}

TEST_CASE("pool: vectorised full-window rows and their backward match the reference for every preset width, with ties and NaN") {
    // Rows long enough for several 16-window blocks plus a tail, and rows shorter than one block (cnn1d's
    // 9 windows: all masked), for each width with its own kernel (2, 3, 4, 5, 8) and one without (6);
    // values with many ties, NaN and -inf.
    for (const std::int64_t windows : {37, 9})
    for (const std::int64_t kw : {2, 3, 4, 5, 6, 8}) {
        for (const std::int64_t kh : {1, 2, 3}) {
            const std::int64_t w = kw * windows + 1, h = kh * 2;
            const Tensor x = ties_nan_inf({1, 2, h, w}, static_cast<std::uint64_t>(kw * 10 + kh));
            MaxPool2d pool({.kernel_size = {kh, kw}});
            const Tensor y = pool.forward(x);
            Tensor gy(y.shape());
            for (std::size_t i = 0; i < gy.size(); ++i) gy[i] = 1.0f + static_cast<float>(i);
            const Tensor gx = pool.backward(gy);
            const auto [expected, where] = naive_max_pool(x, kh, kw, kh, kw);
            REQUIRE(y.size() == expected.size());
            std::vector<float> expected_gx(x.size(), 0.0f);  // the gradient at the selection, 0 elsewhere
            for (std::size_t k = 0; k < expected.size(); ++k) {
                INFO("kernel " << kh << "x" << kw << " output " << k);
                if (std::isnan(expected[k])) REQUIRE(std::isnan(y[k]));
                else REQUIRE(y[k] == expected[k]);
                expected_gx[static_cast<std::size_t>(where[k])] = gy[k];
            }
            for (std::size_t i = 0; i < x.size(); ++i) {
                INFO("kernel " << kh << "x" << kw << " input element " << i);
                REQUIRE(gx[i] == expected_gx[i]);
            }
        }
    }
}

TEST_CASE("pool: inference mode gives the same maxima, keeps no argmax, and a later backward or frozen pass says why") {
    // The full-window kernels without offsets (inference mode) against the same kernels recording them: the
    // widths of the presets and one generic (6), rows longer than a vector block plus a tail and rows
    // shorter than one, kh 1-3, with ties, NaN and -inf.
    for (const std::int64_t windows : {37, 9})
        for (const std::int64_t kw : {2, 3, 4, 5, 6, 8})
            for (const std::int64_t kh : {1, 2, 3}) {
                const std::int64_t w = kw * windows + 1, h = kh * 3;
                const Tensor x = ties_nan_inf({2, 3, h, w}, static_cast<std::uint64_t>(kw * 100 + kh + windows));
                MaxPool2d pool({.kernel_size = {kh, kw}});
                const Tensor recorded = pool.forward(x);
                Tensor inferred;
                {
                    InferenceMode guard;
                    inferred = pool.forward(x);
                }
                INFO("kernel " << kh << "x" << kw << ", " << windows << " windows a row");
                REQUIRE(inferred.shape() == recorded.shape());
                for (std::size_t k = 0; k < recorded.size(); ++k) {
                    INFO("output " << k);
                    if (std::isnan(recorded[k])) REQUIRE(std::isnan(inferred[k]));
                    else REQUIRE(inferred[k] == recorded[k]);
                }
                REQUIRE_THROWS_WITH(pool.backward(Tensor::full(recorded.shape(), 1.0f)),
                                    Catch::Contains("inference mode"));
                FrozenSwitches frozen(pool);
                REQUIRE_THROWS_WITH(pool.forward(x), Catch::Contains("inference mode"));
            }
}
