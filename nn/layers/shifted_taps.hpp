#pragma once
// The convolution path for 1-D stride-1 layers over maps of one row (sample-level blocks, 1-D CNNs over
// mel bins, C_in >= 16): out = sum over taps j of W_j x shifted by j * dilation, one GEMM per tap reading
// the input in place, so there is no unrolled copy. The weight is repacked tap-major once per forward pass.
// Internal to nn/layers/conv.cpp, which chooses the path (ConvBase::Path).
// Layout: one sample x (C_in, W), y (C_out, W_out); weight (C_out, C_in, kW), tap-major (kW, C_out, C_in).
#include "nn/layers/im2col.hpp"

#include <cstdint>

namespace mtag::nn::shifted_taps {

// Repacks the weight (C_out, C_in, kW) into taps (kW, C_out, C_in): one GEMM operand per tap.
void pack_weights(const ConvGeometry& g, const float* wt, float* taps);

// y = conv(x, weight) without bias for one sample of one row; ow = W_out.
void forward(const ConvGeometry& g, const float* taps, const float* x, std::int64_t w, std::int64_t ow,
             float* y);

// For one sample: adds the tap-major weight gradient into tap_grads (when not null) and grad_x into gx
// (when not null; gx must be zeroed first).
void backward(const ConvGeometry& g, const float* taps, const float* x, const float* gy, std::int64_t w,
              std::int64_t ow, float* tap_grads, float* gx);

// Adds the tap-major weight gradient (kW, C_out, C_in) into grad_w (C_out, C_in, kW).
void add_unpacked_gradient(const ConvGeometry& g, const float* tap_grads, float* gw);

}  // namespace mtag::nn::shifted_taps
