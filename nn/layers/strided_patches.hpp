#pragma once
// The convolution path for non-overlapping strided 1-D windows (kernel == stride along w, kernel 1 along
// h, dilation 1, no padding, C_in <= 4): the first layer of sample-level models over raw audio. The input
// is split once into its kW phases and every output row is a short sum of scaled phase rows, written once
// with the bias folded in. Internal to nn/layers/conv.cpp, which chooses the path (ConvBase::Path).
// Layout as everywhere in the engine: one sample x (C_in, H, W), weight (C_out, C_in, 1, kW),
// y (C_out, H, W_out).
#include "nn/layers/im2col.hpp"

#include <cstdint>

namespace mtag::nn::strided_patches {

// y = conv(x, weight) + bias (bias may be null) for one sample; ow = W_out. Uses scratch slot 0.
void forward(const ConvGeometry& g, const float* x, std::int64_t h, std::int64_t w, std::int64_t ow,
             const float* wt, const float* bias, float* y);

// Adds grad_w into gw (when not null) and writes grad_x into gx (when not null; the columns past the
// last window get 0) for one sample. Uses scratch slots 0 and 1.
void backward(const ConvGeometry& g, const float* x, const float* gy, std::int64_t h, std::int64_t w,
              std::int64_t ow, const float* wt, float* gw, float* gx);

}  // namespace mtag::nn::strided_patches
