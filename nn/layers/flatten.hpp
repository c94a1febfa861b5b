#pragma once
// Flatten: (N, d1, ..., dk) -> (N, d1*...*dk) as a view (no copy). ref: torch.nn.Flatten (start_dim 1).
#include "nn/module.hpp"

namespace mtag::nn {

class Flatten : public Module {
  public:
    Tensor forward(const Tensor& input) override {
        m_shape = input.shape();
        return input.flatten(1);
    }
    Tensor backward(const Tensor& grad_output) override {
        return input_grad() ? grad_output.view(m_shape) : Tensor();
    }
    std::string type() const override { return "Flatten"; }

  private:
    Shape m_shape;
};

}  // namespace mtag::nn
