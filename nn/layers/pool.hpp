#pragma once
// Pooling over time (1-D, input (N, C, L)) or over both axes (2-D, input (N, C, H, W)), PyTorch
// semantics: MaxPool1d/2d and AvgPool1d/2d (kernel, stride = kernel by default, zero/-inf padding of at
// most kernel/2, ceil_mode; AvgPool counts padding in the divisor, count_include_pad = True), and
// AdaptiveAvgPool1d/2d / AdaptiveMaxPool1d/2d (windows floor(i*in/out) .. ceil((i+1)*in/out)).
// Dilation is not supported. Max pooling sends each gradient to the first maximum of its window.
// ref: torch.nn.MaxPool2d, torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d (pooling_output_shape).
#include "nn/module.hpp"
#include "nn/switching.hpp"

#include <array>
#include <vector>

namespace mtag::nn {

struct Pool2dOptions {
    std::array<std::int64_t, 2> kernel_size{2, 2};
    std::array<std::int64_t, 2> stride{0, 0};  // 0 = kernel_size (PyTorch's stride=None)
    std::array<std::int64_t, 2> padding{0, 0};
    bool ceil_mode = false;
};

struct Pool1dOptions {
    std::int64_t kernel_size = 2;
    std::int64_t stride = 0;  // 0 = kernel_size
    std::int64_t padding = 0;
    bool ceil_mode = false;
};

// PyTorch's pooling output length for one axis.
std::int64_t pool_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                              bool ceil_mode);

// Shared implementation: windows per output row/column are precomputed for each input size.
// Max pools are Switching (nn/switching.hpp): frozen, forward takes the input at the recorded argmax.
class PoolBase : public Module, public Switching {
  public:
    enum class Kind { max, avg };
    enum class Sizing { fixed, adaptive };
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return m_type; }
    nlohmann::json config() const override;

  protected:
    // 1-D pools use kh = 1, sh = 1, ph = 0 and rank 3 inputs. For adaptive pools kernel = output size.
    PoolBase(std::string type, Kind kind, Sizing sizing, int rank, std::array<std::int64_t, 2> kernel,
             std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding, bool ceil_mode);

  private:
    struct Axis {
        std::vector<std::int64_t> begin, end;  // clipped window [begin, end) per output index
        std::vector<std::int64_t> span;        // window length counted for averages (padding included)
    };
    Axis make_axis(std::int64_t in, int a) const;
    // The forward pass over any windows (m_rows x m_cols: clipped, padded, adaptive), one plane per task.
    void general_forward(const Tensor& input, Tensor& y, std::int64_t planes, std::int64_t h, std::int64_t w);
    // Max pooling with frozen switches: y = x at the argmax recorded by the last unfrozen forward.
    Tensor forward_frozen(const Tensor& input);

    std::string m_type;
    Kind m_kind;
    Sizing m_sizing;
    int m_rank;
    std::array<std::int64_t, 2> m_kernel, m_stride, m_padding;
    bool m_ceil_mode;
    Axis m_rows, m_cols;
    Shape m_input_shape;
    // Max pooling, per output element: the position of its maximum. Windows of at most 256 elements
    // (every fixed pool in the presets) store the offset within the window as one byte (row-major over
    // the clipped window), a quarter of an int32 and an eighth of PyTorch's int64 indices; larger
    // (adaptive) windows store the index into the input plane.
    std::vector<std::int32_t> m_argmax;
    std::vector<std::uint8_t> m_argmax_local;
    bool m_local_argmax = false;
    bool m_full_windows = false;  // the last forward took the full-window row kernels (backward mirrors them)
    Tensor m_output;
};

class MaxPool2d : public PoolBase {
  public:
    explicit MaxPool2d(const Pool2dOptions& o);
};
class AvgPool2d : public PoolBase {
  public:
    explicit AvgPool2d(const Pool2dOptions& o);
};
class MaxPool1d : public PoolBase {
  public:
    explicit MaxPool1d(const Pool1dOptions& o);
};
class AvgPool1d : public PoolBase {
  public:
    explicit AvgPool1d(const Pool1dOptions& o);
};
// Output (N, C, out_h, out_w) whatever the input size.
class AdaptiveAvgPool2d : public PoolBase {
  public:
    AdaptiveAvgPool2d(std::int64_t out_h, std::int64_t out_w);
};
class AdaptiveMaxPool2d : public PoolBase {
  public:
    AdaptiveMaxPool2d(std::int64_t out_h, std::int64_t out_w);
};
// Output (N, C, out_l) whatever the input length.
class AdaptiveAvgPool1d : public PoolBase {
  public:
    explicit AdaptiveAvgPool1d(std::int64_t out_l);
};
class AdaptiveMaxPool1d : public PoolBase {
  public:
    explicit AdaptiveMaxPool1d(std::int64_t out_l);
};

}  // namespace mtag::nn
