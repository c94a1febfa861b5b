#pragma once
// The engine's thread budget: OpenBLAS threads times mtag's own threads never exceed --threads.
//
// How the budget is spent: GEMMs are always called from the calling thread and use up to `budget`
// OpenBLAS threads; the engine's own loops (im2col/col2im, BatchNorm, pooling, activations) run on a
// pool of `budget` threads (the caller plus budget-1 workers) and never call a threaded GEMM from
// inside a pool task. The two never overlap, so at most `budget` threads compute at any moment (pool
// threads poll for 10 us after a loop before they sleep, and OpenBLAS's idle threads for 2^20 cycles
// after a GEMM, instead of its default 2^28, which let them take a core from the engine's loops).
//
// Determinism: parallel_for splits work into the same chunks whatever the thread count, and no
// engine reduction combines partial sums across chunks in a thread-dependent order, so the engine's
// own loops give bit-identical results with 1 and 2 threads. OpenBLAS SGEMM (conv/linear forward and
// backward, including the weight-gradient sums over batch and positions) may reassociate sums
// differently with another thread count: results then agree only up to float rounding.
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

// Sets the total number of threads the engine may use (OpenBLAS GEMMs and mtag's own loops).
void set_thread_budget(int threads);
// The budget last set (default 1 until set).
int thread_budget();

// Runs body(begin, end) over [0, n) split into contiguous chunks of at least `grain` items, on the
// engine's pool (the calling thread takes part). Returns when every chunk is done. Exceptions from
// the body are rethrown in the caller. Nested calls run serially on the calling thread.
void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

}  // namespace mtag::nn
