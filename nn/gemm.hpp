#pragma once
// The engine's one matrix product: C = alpha op(A) op(B) + beta C in row-major storage, with
// cblas_sgemm's arguments (minus the layout). Every conv and linear layer goes through it.
//
// Threads: OpenBLAS itself runs single-threaded (set_thread_budget sets it to 1); with a budget of T
// threads the product is split into T panels of C (columns when N >= M, else rows; multiples of 16)
// that run as one single-threaded SGEMM each on the engine's pool. Why: with OpenBLAS's own threads,
// the engine's loops and OpenBLAS's idle threads took turns on the same cores, and a 2-thread cnn1d
// training step ran at either ~1800 or ~3900 clips/s from run to run depending on how they met.
// Products under 2 MFLOP run on the calling thread.
// Determinism: the panels depend on the sizes and the thread budget only, so a given thread count gives
// the same bits every run. Across thread counts the last bits may differ (OpenBLAS's kernels may sum an
// element in another order for another panel width), as they did with OpenBLAS's own threads.
#include <cblas.h>

namespace mtag::nn {

void gemm(CBLAS_TRANSPOSE trans_a, CBLAS_TRANSPOSE trans_b, int m, int n, int k, float alpha, const float* a,
          int lda, const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace mtag::nn
