#pragma once
// Winograd minimal filtering for 3x3 (2-D), 3-tap and 4-tap (1-D) convolutions with stride 1 and
// dilation 1: each m x m output tile costs (m+2)^2 multiplies per channel pair instead of 9 m^2
// (F(4x4,3x3): 4x fewer; 1-D F(4,3): 2x fewer; 1-D F(3,4): 6 instead of 12, 2x fewer). Three stages per block of tiles: the input transform V = B^T d B,
// one GEMM per transform point (alpha^2 of them, [C_out x C_in] . [C_in x tiles]) on the packed
// micro-kernel, and the output transform Y = A^T M A. Used for the forward pass and for the input
// gradient, which is the same convolution of grad_output with the flipped, transposed kernel.
// Numerics: the transforms reassociate and scale the sums; errors relative to max |y| are ~1e-7 for
// F(2x2,3x3) and 1-D F(4,3), 3-6e-7 for 1-D F(3,4), ~1e-6 for F(4x4,3x3) (measured in
// tests/nn/layers/test_winograd.cpp).
// ref: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks" (transform matrices).
#include <cstdint>
#include <string>

namespace mtag::nn::winograd {

// Output tile and kernel: F(m x m, 3 x 3) over 2-D maps, F(m, 3) and F(3, 4) over maps with one row
// (kernel 1x3 or 1x4), and F(3x3, kh x kw) with kh, kw in {1, 2}: the phases of a stride-2 3x3
// convolution (nn/layers/polyphase_conv.hpp; F(3,2) per 2-tap axis, the identity per 1-tap axis).
enum class Tile { f2x2_3x3, f4x4_3x3, f2_3, f4_3, f3_4, f3x3_2x2, f3x3_2x1, f3x3_1x2, f3x3_1x1 };

// Kernel width and height of the tile's filter.
int kernel_width(Tile tile);
int kernel_height(Tile tile);

// "F(4x4,3x3)" etc., for logs and benchmarks.
std::string name(Tile tile);

// One convolution: input (c_in, h, w) per sample; output (c_out, out_h, out_w), where output (i, j) is
// sum over (a, b) of w[a][b] * input(i - pad_top + a, j - pad_left + b), zero outside the input.
// pad_top / pad_left may be negative or larger than the kernel (the input-gradient problem uses 2 - pad).
struct Problem {
    std::int64_t c_in = 0, c_out = 0;
    std::int64_t h = 0, w = 0;
    std::int64_t out_h = 0, out_w = 0;
    std::int64_t pad_top = 0, pad_left = 0;
};

// Floats of the packed transformed weights for a layer with c_out x c_in channel pairs.
std::size_t packed_weight_size(Tile tile, std::int64_t c_out, std::int64_t c_in);

// Transforms the weights w (c_out, c_in, kh, kw) = (c_out, c_in, 3, 3), (c_out, c_in, 1, 3) or
// (c_out, c_in, 1, 4) into the packed Winograd domain u (packed_weight_size floats). With flip_transpose the result is the kernel of
// the input gradient: w'(ci, co, a, b) = w(co, ci, kh-1-a, kw-1-b), so pass the problem's channels
// (c_out = the layer's c_in). Parallel over output channels on the engine's pool.
void transform_weights(Tile tile, const float* w, std::int64_t c_out, std::int64_t c_in, bool flip_transpose,
                       float* u);

// y (n, c_out, out_h, out_w) = the convolution of x (n, c_in, h, w) with the transformed weights u. Every
// output element is written (no accumulation), or with accumulate added to y. Work is split into blocks of tiles per sample on the
// engine's pool; each block is computed by one thread in a fixed order, so the result does not
// depend on the thread count. Uses the calling threads' scratch slots 0-2.
void convolve(Tile tile, const Problem& p, std::int64_t n, const float* x, const float* u, float* y,
              bool accumulate = false);

// grad_w (c_out, c_in, kh, kw) += the weight gradient of problem p for inputs x (n, c_in, h, w) and output
// gradients grad_y (n, c_out, out_h, out_w): dU[xi] = dM[xi] . V[xi]^T summed over tiles, where
// dM = A dY A^T is the adjoint of the output transform, then grad_w = G^T dU G. Blocks of tiles run in
// a fixed order and each GEMM sums its tiles in order, so the result does not depend on the thread
// count. Uses the calling thread's scratch slots 3-5 and every pool thread's slots 2 and 6.
void weight_gradient(Tile tile, const Problem& p, std::int64_t n, const float* x, const float* grad_y,
                     float* grad_w);

}  // namespace mtag::nn::winograd
