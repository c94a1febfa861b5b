#pragma once
// Stride-2 3x3 convolutions (ResNet downsampling: short_chunk_resnet's conv_1 and 3x3 shortcut) as four
// stride-1 convolutions over the input's polyphase components, each computed with Winograd.
// Output (i, j) reads input rows 2i - pad + a: the taps a of one row parity ("phase") rho = (a - pad) mod 2
// see only the rows x[2k + rho], at offsets k = i + (a - pad - rho) / 2. So with x_rs(k, l) = x(2k + r,
// 2l + s), y = sum over the 4 phases (r, s) of a stride-1 convolution of x_rs with the sub-kernel of the
// taps of that phase: 2x2, 2x1, 1x2 and 1x1 (9 taps in all). Winograd F(3,2) per 2-tap axis (the points
// of F(2,3)) and 3-wide identity tiles per 1-tap axis give 16 + 12 + 12 + 9 = 49 multiplies per 3x3 output
// tile and channel pair against 81 directly (1.65x fewer). The input gradient is the same per phase (the
// flipped sub-kernels, then the phases interleaved back); the weight gradient is Winograd's per phase,
// scattered back into the 3x3 taps. Samples go one at a time, so the phase copies stay one sample large.
// ref: Lavin & Gray 2016 (Winograd); the polyphase decomposition of strided filters (e.g. Vaidyanathan,
// Multirate Systems and Filter Banks, 1993, ch. 4).
#include "nn/layers/winograd.hpp"

#include <cstdint>
#include <vector>

namespace mtag::nn::polyphase {

// One stride-2 3x3 convolution, dilation 1: input (c_in, h, w) per sample, output (c_out, out_h, out_w),
// zero padding pad_top / pad_left (0 or 1) before the map; out_h / out_w carry the bottom / right padding.
struct Problem {
    std::int64_t c_in = 0, c_out = 0;
    std::int64_t h = 0, w = 0;
    std::int64_t out_h = 0, out_w = 0;
    std::int64_t pad_top = 0, pad_left = 0;
};

// True when the problem has the shape this path computes (pads 0 or 1, outputs inside the input's
// phases). Whether it pays is the caller's choice (conv.cpp: channels and tiles per map).
bool supported(const Problem& p);

// Output tiles per map (3x3 tiles over out_h x out_w), for the caller's "does it pay" rule.
std::int64_t tiles_per_map(const Problem& p);

// y (n, c_out, out_h, out_w) = the convolution of x (n, c_in, h, w) with w (c_out, c_in, 3, 3); no bias.
void forward(const Problem& p, std::int64_t n, const float* x, const float* weight, float* y);

// The gradients for output gradient grad_y (n, c_out, out_h, out_w): grad_x (n, c_in, h, w) is written
// when not null (with accumulate_x added to: each element gets its one value added, so the result equals
// writing it and adding apart), grad_w (c_out, c_in, 3, 3) is added to when not null. Deterministic: a fixed
// order of samples, phases and tiles, independent of the thread count.
void backward(const Problem& p, std::int64_t n, const float* x, const float* grad_y, const float* weight,
              float* grad_w, float* grad_x, bool accumulate_x = false);

}  // namespace mtag::nn::polyphase
