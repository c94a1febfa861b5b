#pragma once
// Element-wise activations: ReLU, LeakyReLU, ELU, Sigmoid, Tanh (PyTorch definitions and defaults).
// Each caches its OUTPUT for backward (every derivative here is a function of y, given the sign of x,
// which y preserves for ReLU/LeakyReLU (slope >= 0)/ELU). With inplace = true the output overwrites the
// input storage, as torch's inplace=True (safe after BatchNorm, whose backward does not need its output).
#include "nn/module.hpp"

namespace mtag::nn {

class Activation : public Module {
  public:
    enum class Kind { relu, leaky_relu, elu, sigmoid, tanh };
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override;
    nlohmann::json config() const override;

  protected:
    Activation(Kind kind, float alpha, bool inplace);

  private:
    Kind m_kind;
    float m_alpha;  // LeakyReLU negative_slope or ELU alpha
    bool m_inplace;
    Tensor m_output;
    Tensor m_cache;
};

// max(0, x)
class ReLU : public Activation {
  public:
    explicit ReLU(bool inplace = false) : Activation(Kind::relu, 0.0f, inplace) {}
};

// x for x > 0, negative_slope * x otherwise (default 0.01; must be >= 0 here).
class LeakyReLU : public Activation {
  public:
    explicit LeakyReLU(float negative_slope = 0.01f, bool inplace = false)
        : Activation(Kind::leaky_relu, negative_slope, inplace) {}
};

// x for x > 0, alpha * (exp(x) - 1) otherwise (default alpha 1).
class ELU : public Activation {
  public:
    explicit ELU(float alpha = 1.0f, bool inplace = false) : Activation(Kind::elu, alpha, inplace) {}
};

// 1 / (1 + exp(-x))
class Sigmoid : public Activation {
  public:
    Sigmoid() : Activation(Kind::sigmoid, 0.0f, false) {}
};

class Tanh : public Activation {
  public:
    Tanh() : Activation(Kind::tanh, 0.0f, false) {}
};

}  // namespace mtag::nn
