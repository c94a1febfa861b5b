#pragma once
// Reshape: (N, ...) -> (N, shape...) as a view (no copy), the batch dim kept. `shape` lists the
// non-batch dims (1 to 3 of them, the tensor rank limit being 4); one may be -1, inferred from the
// others. Row-major order, as torch.reshape and Keras's Reshape (th or tf dim ordering alike: Keras
// reshapes in C order too). ref: torch.nn.Unflatten / torch.reshape; Keras 1.2 core.py Reshape.
#include "nn/module.hpp"

#include <vector>

namespace mtag::nn {

struct ReshapeOptions {
    std::vector<std::int64_t> shape;  // target non-batch dims; at most one -1
};

class Reshape : public Module {
  public:
    explicit Reshape(const ReshapeOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Reshape"; }
    nlohmann::json config() const override;

  private:
    ReshapeOptions m_options;
    Shape m_input_shape;   // of the last forward (rank 0 before the first)
    Shape m_output_shape;  // of the last forward
};

}  // namespace mtag::nn
