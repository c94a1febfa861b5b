#pragma once
// Conv1d and Conv2d (PyTorch semantics: cross-correlation, weight (C_out, C_in, kH, kW), optional bias,
// stride, zero padding incl. 'same', dilation; groups = 1). Paths, chosen per layer shape (ConvAlgorithm):
// Winograd minimal filtering (nn/layers/winograd.hpp) for 3x3, 1x3 and 1x4 kernels with stride 1 and
// dilation 1 (forward, input and weight gradients); otherwise im2col + cblas_sgemm over tiles of output
// rows (bounded workspace), a zero-copy GEMM for 1x1 kernels, shifted-tap GEMMs for other 1-D stride-1
// kernels (nn/layers/shifted_taps.hpp), Winograd over the four input phases for 3x3 stride-2 layers
// (nn/layers/polyphase_conv.hpp), a direct phase sum for the strided "stride == kernel" first layer
// of sample-level models (nn/layers/strided_patches.hpp), and a direct 3x3 kernel
// (nn/layers/direct_conv.hpp) for 2-D layers with at most 4 input channels.
// ref: torch.nn.Conv1d / torch.nn.Conv2d; Chellapilla et al. 2006 (im2col unrolling); Lavin & Gray 2016.
#include "nn/layers/direct_conv.hpp"
#include "nn/layers/im2col.hpp"
#include "nn/layers/polyphase_conv.hpp"
#include "nn/layers/winograd.hpp"
#include "nn/module.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace mtag::nn {

// Options of Conv2d; names and defaults follow torch.nn.Conv2d.
struct Conv2dOptions {
    std::int64_t in_channels = 1;
    std::int64_t out_channels = 1;
    std::array<std::int64_t, 2> kernel_size{3, 3};
    std::array<std::int64_t, 2> stride{1, 1};
    std::array<std::int64_t, 2> padding{0, 0};  // symmetric zero padding (ignored when padding_same)
    std::array<std::int64_t, 2> dilation{1, 1};
    // PyTorch padding='same': total dilation*(k-1), the extra element (if odd) after; stride must be 1.
    bool padding_same = false;
    bool bias = true;
};

// Options of Conv1d; names and defaults follow torch.nn.Conv1d.
struct Conv1dOptions {
    std::int64_t in_channels = 1;
    std::int64_t out_channels = 1;
    std::int64_t kernel_size = 3;
    std::int64_t stride = 1;
    std::int64_t padding = 0;
    std::int64_t dilation = 1;
    bool padding_same = false;
    bool bias = true;
};

// How a convolution is computed. automatic: Winograd F(4x4,3x3) / F(4,3) for 3x3 / 1x3 kernels with
// stride 1, dilation 1, at least 8 input and output channels and 32 tiles per map when the CPU runs
// the AVX-512 micro-kernel (F(2x2,3x3) / F(2,3) for maps of 32-63 tiles), F(3,4) for 1x4 kernels under the
// same conditions with at least 24 tiles of 3 outputs per map (1-D maps with fewer tiles: the batch laid
// end to end as one map, when at least 2/3 of its outputs are wanted), the direct 3x3 kernel for 2-D
// 3x3 stride-1 layers with at most 4 input channels (padding 0 or 1), the polyphase Winograd path for
// 3x3 stride-2 layers (padding 0 or 1, at least 8 channels, 32 output tiles of 3x3 per map), the GEMM
// paths otherwise. gemm:
// always im2col / direct GEMM (the pre-Winograd path). winograd_f2 / winograd_f4: Winograd with 2- or 4-wide
// output tiles wherever the shape allows it (F(3,4) for 1x4 kernels under either, the polyphase path
// for 3x3 stride 2; else GEMM). The default comes from MTAG_CONV_ALGO (auto | gemm |
// winograd_f2 | winograd_f4). When the forward pass used Winograd, the input and weight gradients do too.
enum class ConvAlgorithm { automatic, gemm, winograd_f2, winograd_f4 };

// The shared implementation; Conv1d and Conv2d only translate options and shapes.
class ConvBase : public Module {
  public:
    // Selects how the forward pass and the input gradient are computed (see ConvAlgorithm).
    void set_algorithm(ConvAlgorithm algorithm) { m_algorithm = algorithm; }
    ConvAlgorithm algorithm() const { return m_algorithm; }
    // The Winograd tile the last forward pass used, or none when it used a GEMM path.
    std::optional<winograd::Tile> last_winograd_tile() const { return m_winograd; }
    // True when the last forward pass ran Winograd over the batch laid end to end (1-D maps too short
    // for Winograd one sample at a time; see concat_winograd_tile).
    bool last_batch_concatenated() const { return m_concat; }
    // True when the last forward pass used the direct 3x3 kernel (few input channels).
    bool last_direct() const { return m_direct; }
    // True when the last forward pass ran the stride-2 3x3 layer as Winograd over its input phases.
    bool last_polyphase() const { return m_polyphase; }
    // backward() with the input gradient added into `into` (the input's shape, held by no one else) rather
    // than returned in a new tensor; returns `into`. Why: a residual block sums its branches' input
    // gradients, and two input-sized gradients at once were short_chunk_resnet's training peak. Bit-identical to
    // backward() and an elementwise add: the Winograd and polyphase paths add each element's one value in
    // place, the others compute the gradient apart and add it.
    Tensor backward_accumulate(const Tensor& grad_output, Tensor into);
    Parameter& weight() { return m_weight; }
    Parameter* bias() { return m_bias; }
    const ConvGeometry& geometry() const { return m_geo; }
    // Multiply-adds of one forward pass for an input map of h x w (per sample).
    double forward_flops(std::int64_t h, std::int64_t w) const;

  protected:
    ConvBase(const ConvGeometry& geometry, bool bias, const Shape& weight_shape);
    // x: (N, C_in, H, W) -> (N, C_out, H_out, W_out).
    Tensor forward_map(const Tensor& x);
    // grad_y: (N, C_out, H_out, W_out) -> grad of the cached input (added into *into when given, see
    // backward_accumulate).
    Tensor backward_map(const Tensor& grad_y, Tensor* into = nullptr);
    void reset_parameters();

    ConvGeometry m_geo;

  private:
    enum class Path { im2col, pointwise, strided_patches, shifted_taps, direct3x3 };
    Path choose_path() const;
    // Samples unrolled side by side into one GEMM (1 = per sample).
    std::int64_t batch_group(std::int64_t n, std::int64_t hw) const;
    // The direct 3x3 path's gradients (gx allocated when wanted); true when the bias gradient was fused in.
    bool direct_backward(const Tensor& x, const Tensor& grad_y, Tensor& gx);
    // The Winograd path's gradients: input gradient (gx allocated when wanted) and weight gradient.
    void winograd_backward(const Tensor& x, const Tensor& grad_y, Tensor& gx, Tensor* into);
    // The same over the batch laid end to end (m_concat).
    void concat_winograd_backward(const Tensor& x, const Tensor& grad_y, Tensor& gx);
    // Adds grad_y's per-channel sums (n samples of hw positions) to the bias gradient, in a fixed order.
    void bias_backward(const Tensor& grad_y, std::int64_t n, std::int64_t hw);
    // GEMM-path gradients with `group` samples unrolled side by side (batch_group > 1).
    void grouped_gemm_backward(const Tensor& x, const Tensor& grad_y, std::int64_t group, bool need_w,
                               bool need_x, Tensor& gx);
    // Gradients of samples [first, N) one at a time (shifted taps, pointwise, strided patches, im2col tiles).
    void per_sample_backward(const Tensor& x, const Tensor& grad_y, std::int64_t first, bool shifted,
                             bool need_w, bool need_x, Tensor& gx);
    // Rows of output per tile so that the unrolled tile stays within the workspace budget.
    std::int64_t tile_rows(std::int64_t out_h, std::int64_t out_w) const;
    // The Winograd tile for an input map of h x w under the current algorithm, or none.
    std::optional<winograd::Tile> winograd_tile(std::int64_t h, std::int64_t w) const;
    // For 1-D maps (h = 1) with too few tiles per sample: the Winograd tile for the samples laid end to
    // end, each with its own zero padding, as one long map; none when that does not pay (automatic only).
    std::optional<winograd::Tile> concat_winograd_tile(std::int64_t w) const;
    // The spacing of the samples in that long map (a whole number of tiles).
    std::int64_t concat_segment(winograd::Tile tile, std::int64_t w) const;
    // The forward problem of that long map (c_in, c_out, width n * concat_segment, no padding).
    winograd::Problem concat_problem(std::int64_t n, std::int64_t w) const;
    winograd::Problem winograd_problem(std::int64_t h, std::int64_t w, bool input_gradient) const;
    direct_conv::Problem direct_problem(std::int64_t h, std::int64_t w) const;
    // The polyphase problem of a 3x3 stride-2 layer when the current algorithm uses that path, or none.
    std::optional<polyphase::Problem> polyphase_problem(std::int64_t h, std::int64_t w) const;

    Parameter& m_weight;
    Parameter* m_bias = nullptr;
    Tensor m_input;   // (N, C_in, H, W) view of the last forward input (shared, not copied; released by backward)
    Tensor m_output;  // reused output storage
    Path m_path = Path::im2col;
    std::vector<float> m_taps;       // weight repacked as (kW, C_out, C_in) for the shifted-taps path
    std::vector<float> m_tap_grads;  // its gradient, same layout
    ConvAlgorithm m_algorithm = ConvAlgorithm::automatic;
    std::optional<winograd::Tile> m_winograd;  // tile of the last forward pass (none: GEMM path)
    bool m_direct = false;                     // the last forward pass used the direct 3x3 kernel
    bool m_concat = false;                     // ... and ran Winograd over the batch end to end
    bool m_polyphase = false;                  // the last forward pass used the polyphase path
};

// 2-D convolution over (N, C_in, H, W).
class Conv2d : public ConvBase {
  public:
    explicit Conv2d(const Conv2dOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Conv2d"; }
    nlohmann::json config() const override;
    const Conv2dOptions& options() const { return m_options; }

  private:
    Conv2dOptions m_options;
};

// 1-D convolution over (N, C_in, L).
class Conv1d : public ConvBase {
  public:
    explicit Conv1d(const Conv1dOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Conv1d"; }
    nlohmann::json config() const override;
    const Conv1dOptions& options() const { return m_options; }

  private:
    Conv1dOptions m_options;
};

}  // namespace mtag::nn
