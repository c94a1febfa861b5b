#pragma once
// Maxout (Goodfellow et al. 2013, "Maxout Networks", ICML): the channel axis (dim 1) of the input holds
// `pieces` consecutive candidates per output unit, and the output keeps the largest of each group:
//   y[n, c, ...] = max_j x[n, c * pieces + j, ...],   x: (N, C * pieces, ...) -> y: (N, C, ...).
// The layer before it (a Linear or a convolution) therefore produces `pieces` times the units. PyTorch
// has no Maxout module; this is the usual torch idiom x.view(N, C, pieces, *rest).max(dim=2) (and
// pylearn2's MaxoutConvC01B grouping of consecutive channels). Backward sends each output's gradient to
// the first maximal piece, as torch.max's index does; one byte per output element records it.
#include "nn/module.hpp"
#include "nn/switching.hpp"

#include <cstdint>
#include <vector>

namespace mtag::nn {

struct MaxoutOptions {
    std::int64_t pieces = 2;  // k, at least 2 (Goodfellow et al. use 2 to 5)
};

// Switching (nn/switching.hpp): frozen, forward takes the piece recorded by the last unfrozen pass.
class Maxout : public Module, public Switching {
  public:
    explicit Maxout(const MaxoutOptions& options = {});
    // Any rank >= 2; throws when dim 1 is not a multiple of pieces.
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Maxout"; }
    nlohmann::json config() const override;
    std::int64_t pieces() const { return m_options.pieces; }

  private:
    MaxoutOptions m_options;
    Shape m_input_shape;
    std::vector<std::uint8_t> m_argmax;  // winning piece per output element
    bool m_has_forward = false;
};

}  // namespace mtag::nn
