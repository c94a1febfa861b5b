#pragma once
// The engine's thread budget: at most --threads threads compute at any moment.
//
// How the budget is spent: the engine's own loops (im2col/col2im, Winograd, BatchNorm, pooling,
// activations) run on a pool of `budget` threads (the caller plus budget-1 workers), and so do GEMMs:
// OpenBLAS is kept single-threaded and nn::gemm (nn/gemm.hpp) splits each large product into one panel
// per pool thread. Pool threads poll for 10 us after a loop before they sleep.
//
// Determinism: parallel_for splits work into the same chunks whatever the thread count, and no
// engine reduction combines partial sums across chunks in a thread-dependent order, so the engine's
// own loops (and the Winograd and direct conv kernels) give bit-identical results with 1 and 2 threads.
// The GEMM panels of nn::gemm depend on the thread count, and OpenBLAS may sum an element in another
// order for another panel width (conv/linear through im2col or shifted taps, including the weight-
// gradient sums over batch and positions): results then agree only up to float rounding. A given
// thread count always gives the same bits.
#include <cstdint>
#include <functional>
#include <string>

namespace mtag::nn {

// Selects OpenBLAS's kernels once per process (idempotent, thread-safe; called by set_thread_budget
// and by every layer constructor that uses GEMM). OpenBLAS 0.3.21 (Debian 12) does not recognise
// AVX-512 on AMD Zen 4 and falls back to its Haswell (AVX2) kernels, halving SGEMM throughput; when the
// CPU has AVX-512 F/BW/DQ/VL, the library picked Haswell or Zen, and the user has not set
// OPENBLAS_CORETYPE, this switches to the SkylakeX kernels through OpenBLAS's exported
// gotoblas_dynamic_quit/init (a DYNAMIC_ARCH build re-reads OPENBLAS_CORETYPE there). Set
// MTAG_BLAS_AUTOTUNE=0 to keep OpenBLAS's own choice. Returns the kernel set in use ("SkylakeX").
std::string init_blas();

// Sets the total number of threads the engine may use (its loops and GEMM panels; OpenBLAS runs one).
void set_thread_budget(int threads);
// The budget last set (default 1 until set).
int thread_budget();

// Runs body(begin, end) over [0, n) split into contiguous chunks of at least `grain` items, on the
// engine's pool (the calling thread takes part). Returns when every chunk is done. Exceptions from
// the body are rethrown in the caller. Nested calls run serially on the calling thread.
void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

}  // namespace mtag::nn
