#pragma once
// Squeeze-and-excitation: y = x * sigmoid(fc2(relu(fc1(mean(x over time/space))))) per channel.
// Works on (N, C, L) and (N, C, H, W). Children "fc1" (C -> hidden) and "fc2" (hidden -> C).
// hidden = C / r for the usual reduction ratio r; Kim et al. 2018 (SampleCNN-SE) use an amplifying
// ratio, hidden = 16 C. ref: Hu et al. 2018, "Squeeze-and-Excitation Networks".
#include "nn/layers/activation.hpp"
#include "nn/layers/linear.hpp"
#include "nn/module.hpp"

#include <memory>

namespace mtag::nn {

struct SqueezeExcitationOptions {
    std::int64_t channels = 1;
    std::int64_t hidden = 1;
};

class SqueezeExcitation : public Module {
  public:
    explicit SqueezeExcitation(const SqueezeExcitationOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "SqueezeExcitation"; }
    nlohmann::json config() const override;

  private:
    SqueezeExcitationOptions m_options;
    std::shared_ptr<Linear> m_fc1, m_fc2;
    ReLU m_relu;
    Sigmoid m_sigmoid;
    Tensor m_input;
    Tensor m_excitation;  // (N, C)
};

}  // namespace mtag::nn
