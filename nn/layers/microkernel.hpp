#pragma once
// A register-blocked SGEMM micro-kernel over pre-packed panels, for the convolution paths that pack
// their operands themselves (Winograd): C[mr x nr] = A_panel^T * B_panel, with A packed as (k, mr)
// and B packed as (k, nr), both contiguous. The AVX-512 version is chosen at run time when the CPU
// has AVX-512F, else the AVX2 + FMA version (both compiled with target attributes, so the build needs no
// -march flag; both give identical bits); otherwise a portable loop version gives the same result up to
// float rounding.
// Why not OpenBLAS here: the operands are produced by our own transforms, so they can be written
// directly in the packed layout (no second packing pass), and OpenBLAS may be pinned to its AVX2
// kernels (OPENBLAS_CORETYPE=Haswell) on a CPU whose AVX-512 units do twice the work per cycle.
// ref: Goto & van de Geijn 2008, "Anatomy of high-performance matrix multiplication" (packing,
// micro-kernel); Low et al. 2016, "Analytical modeling is enough for high-performance BLIS".
#include <cstdint>
#include <string>
#include <vector>

namespace mtag::nn::microkernel {

// Rows of C (and of a packed A panel) per micro-tile.
inline constexpr int mr = 8;
// Columns of C (and of a packed B panel) per micro-tile: two 16-float AVX-512 vectors.
inline constexpr int nr = 32;

// The signature of a micro-kernel: C (row stride ldc) = [C +] sum_p a[p*mr + i] * b[p*nr + j].
using Kernel = void (*)(std::int64_t k, const float* a, const float* b, float* c, std::int64_t ldc,
                        bool accumulate);

// The fastest kernel this CPU runs (AVX-512, AVX2 or portable; MTAG_CPU caps the choice, see
// cpu_features.hpp).
Kernel kernel();
// "avx512", "avx2" or "portable": the kernel that kernel() returns.
std::string kernel_name();
// True when a vector kernel (AVX-512 or AVX2) is in use: the Winograd and polyphase paths are only chosen
// by default then.
bool fast();

struct NamedKernel {
    std::string name;  // "avx512", "avx2" or "portable"
    Kernel kernel;
};
// Every kernel this CPU can run, fastest first (the portable one last), so tests can compare them all.
std::vector<NamedKernel> available_kernels();

// The portable kernel, exposed so tests can compare it with the dispatched one.
void portable_kernel(std::int64_t k, const float* a, const float* b, float* c, std::int64_t ldc,
                     bool accumulate);

// dst[j * ld_dst + i] = src[i * ld_src + j] for i < rows, j < cols: turns rows of transformed values
// into the lane-interleaved packed layout. 8 x 8 blocks in AVX registers when the CPU has AVX2.
void transpose(const float* src, std::int64_t ld_src, float* dst, std::int64_t ld_dst, std::int64_t rows,
               std::int64_t cols);

}  // namespace mtag::nn::microkernel
