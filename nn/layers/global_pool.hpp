#pragma once
// Global pooling: average or maximum over time (the last axis) or over all spatial axes.
// (N, C, L) -> (N, C) either way; (N, C, H, W) -> (N, C, H) over time, (N, C) over both axes.
// The (N, C) result feeds Linear directly (no Flatten needed). Equivalent to torch.mean/amax over
// those dims (max: gradient to the first maximum, as torch.max with indices).
#include "nn/module.hpp"
#include "nn/switching.hpp"

#include <vector>

namespace mtag::nn {

struct GlobalPoolOptions {
    enum class Mode { avg, max };
    enum class Axes { time, all };
    Mode mode = Mode::avg;
    Axes axes = Axes::all;
};

// Max mode is Switching (nn/switching.hpp): frozen, forward takes each row's recorded argmax.
class GlobalPool : public Module, public Switching {
  public:
    explicit GlobalPool(const GlobalPoolOptions& options = {}) : m_options(options) {}
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "GlobalPool"; }
    nlohmann::json config() const override;

  private:
    GlobalPoolOptions m_options;
    Shape m_input_shape;
    std::vector<std::int64_t> m_argmax;
};

}  // namespace mtag::nn
