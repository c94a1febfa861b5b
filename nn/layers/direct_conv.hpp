#pragma once
// Direct 3x3 convolution (stride 1, no dilation, padding 0 or 1 per side) for layers with few input
// channels: the first layer of a 2-D CNN over a one-channel log-mel map.
//
// Why not im2col + GEMM there: with C_in = 1 the unrolled matrix has K = 9 rows, so the GEMM does 9
// multiply-adds per output element and its time goes to writing the (C_out, H, W) output and to
// OpenBLAS's packing of a skinny panel, not to arithmetic. Counting gives the floor: the layer moves at
// least 4 * (C_out * H * W) bytes for 2 * 9 * C_out * H * W flops, 4.5 flops per byte, which a memory
// system of ~25 GB/s can feed at about the SGEMM peak of one core. The kernels here reach that by keeping
// the nine shifted input vectors of 16 output columns in registers and writing each output once:
// - forward: for 8 output channels at a time, 9 masked loads feed 72 FMAs, then 8 stores;
// - weight gradient: 2 output channels at a time hold 18 accumulators over all positions; each thread
//   owns whole output channels and sums positions in a fixed order, so results do not depend on the
//   thread count;
// - input gradient: 4 x 16 columns of one input row accumulate over every output channel and tap;
// - with one input channel, the three gradients in one pass (fused_backward): the layer's backward is
//   bound by reading the (C_out, H, W) output gradient, which the separate kernels (and the bias sum)
//   each read once more. Each shifted gradient vector feeds 3 input-gradient and 3 weight-gradient FMAs.
// AVX-512 with masked loads at the borders (a masked-off lane is never read); on CPUs with AVX2 but not
// AVX-512 the forward pass and the one-input-channel backward have AVX2 forms (direct_conv_avx2.hpp);
// everything else runs portable loops.
// Layout as everywhere in the engine: x (N, C_in, H, W), weight (C_out, C_in, 3, 3), y (N, C_out, OH, OW).
#include <cstdint>

namespace mtag::nn::direct_conv {

// The shapes these kernels take: kernel 3x3, stride 1, dilation 1, each padding 0 or 1.
struct Problem {
    std::int64_t c_in = 1, c_out = 1;
    std::int64_t h = 1, w = 1;          // input map
    std::int64_t pad_top = 1, pad_left = 1;
    std::int64_t out_h = 1, out_w = 1;  // from the geometry (padding bottom/right may differ from top/left)
};

// How the forward pass writes y. automatic: non-temporal stores when y is larger than the last-level
// cache (it leaves the cache before the next layer reads it, so the stores skip the read-for-ownership of
// each line: forward 5.0 -> 2.8 ms for 1 -> 128 channels on 96 x 1366, one thread); streamed / cached
// force either (streamed needs planes of a multiple of 16 floats, else it falls back to cached).
enum class Stores { automatic, streamed, cached };

// y = conv(x, weight) + bias (bias may be null), for n samples.
void forward(const Problem& p, std::int64_t n, const float* x, const float* weight, const float* bias, float* y,
             Stores stores = Stores::automatic);

// weight_grad += d loss / d weight for n samples (x the forward input, gy the output gradient).
void weight_gradient(const Problem& p, std::int64_t n, const float* x, const float* gy, float* weight_grad);

// gx = d loss / d x (overwritten) for n samples.
void input_gradient(const Problem& p, std::int64_t n, const float* gy, const float* weight, float* gx);

// All three gradients in one pass over gy (two passes on AVX2), for C_in = 1 on CPUs with AVX-512 or AVX2:
// gx overwritten (skipped when gx is null), weight_grad += d loss / d weight, bias_grad += d loss / d bias
// (bias_grad may be null). The partial sums of fixed tasks are added in task order, so results do not depend
// on the thread count. Returns false, touching nothing, when the shape or CPU does not qualify (use the
// separate kernels then).
bool fused_backward(const Problem& p, std::int64_t n, const float* x, const float* gy, const float* weight,
                    float* weight_grad, float* bias_grad, float* gx);

}  // namespace mtag::nn::direct_conv
