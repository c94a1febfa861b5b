#pragma once
// ZeroPad2d: pads the last two dims of (N, C, H, W) (or (N, H, W)) with zeros, PyTorch semantics:
// padding (left, right, top, bottom) adds columns on the left/right of W and rows above/below H, so the
// output is (N, C, H + top + bottom, W + left + right). Negative (cropping) padding is not supported.
// Keras 1 ZeroPadding2D(padding=(a, b)) is left = right = b, top = bottom = a (th dim ordering).
// ref: torch.nn.ZeroPad2d.
#include "nn/module.hpp"

namespace mtag::nn {

struct ZeroPad2dOptions {
    std::int64_t left = 0;
    std::int64_t right = 0;
    std::int64_t top = 0;
    std::int64_t bottom = 0;
};

class ZeroPad2d : public Module {
  public:
    explicit ZeroPad2d(const ZeroPad2dOptions& options);
    Tensor forward(const Tensor& input) override;
    // The gradient of the kept window, cropped out of grad_output.
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "ZeroPad2d"; }
    nlohmann::json config() const override;

  private:
    Shape padded(const Shape& input) const;

    ZeroPad2dOptions m_options;
    Shape m_input_shape;  // of the last forward (rank 0 before the first)
    Tensor m_output;
};

}  // namespace mtag::nn
