#include "nn/gemm.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/conv_twins.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace mtag::nn;
using mtag::nn::test::random_tensor;

namespace {

// C = alpha op(A) op(B) + beta C in double, row-major.
std::vector<double> reference(bool ta, bool tb, int m, int n, int k, float alpha, const Tensor& a, int lda,
                              const Tensor& b, int ldb, float beta, const std::vector<float>& c0, int ldc) {
    std::vector<double> c(c0.begin(), c0.end());
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0.0;
            for (int p = 0; p < k; ++p) {
                const double av = ta ? a[static_cast<std::size_t>(p * lda + i)] : a[static_cast<std::size_t>(i * lda + p)];
                const double bv = tb ? b[static_cast<std::size_t>(j * ldb + p)] : b[static_cast<std::size_t>(p * ldb + j)];
                s += av * bv;
            }
            c[static_cast<std::size_t>(i * ldc + j)] = alpha * s + beta * c[static_cast<std::size_t>(i * ldc + j)];
        }
    return c;
}

}  // namespace

TEST_CASE("gemm: panels on the pool give the single-call result for every transpose, the same bits per run") {
    // Wide (split by columns) and tall (split by rows) products above the 2 MFLOP threshold, sizes not
    // multiples of 16, padded leading dimensions, alpha and beta.
    struct Shape3 {
        int m, n, k;
    };
    for (const Shape3 s : {Shape3{37, 531, 70}, Shape3{613, 45, 83}})
        for (const bool ta : {false, true})
            for (const bool tb : {false, true}) {
                INFO("m " << s.m << " n " << s.n << " k " << s.k << " trans " << ta << tb);
                const int lda = (ta ? s.m : s.k) + 3, ldb = (tb ? s.k : s.n) + 5, ldc = s.n + 2;
                const Tensor a = random_tensor({(ta ? s.k : s.m) * lda}, 1);
                const Tensor b = random_tensor({(tb ? s.n : s.k) * ldb}, 2);
                const Tensor c0 = random_tensor({s.m * ldc}, 3);
                std::vector<float> init(c0.data(), c0.data() + c0.size());
                std::vector<std::vector<float>> out;
                for (int threads : {1, 2, 3, 2}) {
                    set_thread_budget(threads);
                    std::vector<float> c = init;
                    gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 0.75f,
                         a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc);
                    out.push_back(c);
                }
                set_thread_budget(1);
                const auto ref = reference(ta, tb, s.m, s.n, s.k, 0.75f, a, lda, b, ldb, 0.5f, init, ldc);
                double worst = 0.0;
                for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(ref[i] - out[0][i]));
                CHECK(worst < 1e-4);
                // Other thread counts: other panels, equal up to rounding; the same count twice: the same bits.
                for (std::size_t i = 0; i < init.size(); ++i) {
                    REQUIRE(out[1][i] == Approx(out[0][i]).margin(1e-5));
                    REQUIRE(out[2][i] == Approx(out[0][i]).margin(1e-5));
                    REQUIRE(out[3][i] == out[1][i]);
                }
            }
}

TEST_CASE("gemm: a GEMM-path convolution agrees with 1 and 2 threads, and repeats its bits") {
    // 5-tap 1-D kernel over 64 channels: the shifted-tap GEMMs, forward and both gradients.
    Conv1d conv({.in_channels = 64, .out_channels = 48, .kernel_size = 5, .padding = 2});
    conv.weight().value.copy_from(random_tensor(conv.weight().shape(), 4, -0.2f, 0.2f));
    const Tensor x = random_tensor({3, 64, 300}, 5);
    const Tensor gy = random_tensor({3, 48, 300}, 6);
    const std::vector<Tensor> runs = mtag::nn::test::passes_per_thread_count(conv, x, gy, {1, 2, 2});
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t i = 0; i < runs[k].size(); ++i) {
            REQUIRE(runs[k + 3][i] == Approx(runs[k][i]).margin(1e-4));
            REQUIRE(runs[k + 6][i] == runs[k + 3][i]);
        }
}
