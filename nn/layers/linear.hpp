#pragma once
// Linear (fully connected) layer: y = x W^T + b over (N, in_features), weight (out, in) as in PyTorch.
// ref: torch.nn.Linear
#include "nn/module.hpp"

namespace mtag::nn {

struct LinearOptions {
    std::int64_t in_features = 1;
    std::int64_t out_features = 1;
    bool bias = true;
};

class Linear : public Module {
  public:
    explicit Linear(const LinearOptions& options);
    // input (N, in_features) -> (N, out_features).
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Linear"; }
    nlohmann::json config() const override;
    Parameter& weight() { return m_weight; }
    Parameter* bias() { return m_bias; }

  private:
    LinearOptions m_options;
    Parameter& m_weight;
    Parameter* m_bias = nullptr;
    Tensor m_input;
    Tensor m_output;
};

}  // namespace mtag::nn
