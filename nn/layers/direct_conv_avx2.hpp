#pragma once
// The AVX2 + FMA forms of direct_conv's forward pass and of its one-input-channel backward, for CPUs
// without AVX-512 (AMD Zen 2/3, Intel before Skylake-SP), where the portable loops left a 1 -> 128
// channel first layer at 2.6 GFLOP/s. Called by direct_conv.cpp when cpu_has_avx2() && cpu_has_fma();
// compiled with target attributes, so the build needs no -march flag.
//
// AVX2 has 16 vector registers and no mask registers, so the kernels differ from the AVX-512 ones in shape:
// - forward: 4 output channels x 16 columns (8 accumulators) per block; per tap 2 input loads and 4
//   weight broadcasts feed 8 FMAs. Borders use vmaskmovps (a masked-off lane is never read). Each output
//   element sums bias, then input channels, rows and columns in the same order as the other forms, so the
//   outputs are bit for bit theirs.
// - backward with one input channel: the AVX-512 form's single pass holds 25 vectors; here the weight
//   and bias gradients (9 + 1 accumulators, 3 rolling input rows) and the input gradient (3 rolling row
//   accumulators, 9 weights) are two passes over the output gradient. Lane partial sums of 8 lanes go to
//   double per task, so weight gradients round differently from the AVX-512 form's 16-lane sums; each is
//   deterministic for a given shape, batch and thread count.
#include "nn/layers/direct_conv.hpp"

#include <cstdint>

namespace mtag::nn::direct_conv::avx2 {

// Rows [i0, i1) of output channels [co0, co1) of sample b; `stream`: full 16-column blocks aligned to 64
// bytes and written with non-temporal stores (plane sizes a multiple of 16, as in direct_conv::forward).
void forward_rows(const Problem& p, std::int64_t b, std::int64_t co0, std::int64_t co1, std::int64_t i0,
                  std::int64_t i1, const float* x, const float* weight, const float* bias, float* y,
                  bool stream);

// C_in = 1, sample b, input rows [ih0, ih1): adds the weight and bias gradients of the output rows in
// [ih0, ih1) to part (c_out x 10 doubles: 9 taps, then bias), and when gx is not null writes gx's rows
// [ih0, ih1) of sample b.
void backward_rows(const Problem& p, std::int64_t b, std::int64_t ih0, std::int64_t ih1, const float* x,
                   const float* gy, const float* weight, float* gx, double* part);

}  // namespace mtag::nn::direct_conv::avx2
