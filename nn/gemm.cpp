#include "nn/gemm.hpp"

#include "nn/threads.hpp"

#include <algorithm>

namespace mtag::nn {

namespace {

constexpr double parallel_min_flops = 2e6;  // below this, waking a pool thread costs more than it saves
constexpr int panel_align = 16;             // panel edges on whole AVX-512 vectors of C

}  // namespace

void gemm(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m, int n, int k, float alpha, const float* a,
          int lda, const float* b, int ldb, float beta, float* c, int ldc) {
    const bool by_columns = n >= m;
    const int extent = by_columns ? n : m;
    const int panels = std::min(thread_budget(), extent / panel_align);
    if (panels < 2 || 2.0 * m * n * k < parallel_min_flops) {
        cblas_sgemm(CblasRowMajor, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    // Panel p covers [edge(p), edge(p + 1)); a nested call (from inside a pool task) gets the whole
    // range in one body call and runs it as one product.
    const auto edge = [&](std::int64_t p) {
        return p >= panels ? extent : static_cast<int>(extent * p / panels) / panel_align * panel_align;
    };
    parallel_for(panels, 1, [&](std::int64_t p0, std::int64_t p1) {
        const int lo = edge(p0), hi = edge(p1);
        if (hi <= lo) return;
        if (by_columns)
            cblas_sgemm(CblasRowMajor, trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                        trans_b == CblasNoTrans ? b + lo : b + static_cast<std::ptrdiff_t>(lo) * ldb, ldb, beta,
                        c + lo, ldc);
        else
            cblas_sgemm(CblasRowMajor, trans_a, trans_b, hi - lo, n, k, alpha,
                        trans_a == CblasNoTrans ? a + static_cast<std::ptrdiff_t>(lo) * lda : a + lo, lda, b, ldb,
                        beta, c + static_cast<std::ptrdiff_t>(lo) * ldc, ldc);
    });
}

}  // namespace mtag::nn
