#pragma once
// Element-wise activations: ReLU, LeakyReLU, ELU, SELU, Sigmoid, Tanh (PyTorch definitions and defaults)
// and HardSigmoid (Keras 1's, see below). Maxout, which changes the channel count, is nn/layers/maxout.
// ReLU and LeakyReLU keep only a one-bit mask (x > 0) per element for backward, 1/32 of the
// output's size, so after an in-place ReLU nobody holds the activation: once the next layer has read
// it (max-pooling keeps only its argmax), its memory is free. ELU, SELU, Sigmoid, Tanh and HardSigmoid cache
// their OUTPUT (their derivatives are functions of y). With inplace = true the output overwrites the input storage,
// as torch's inplace=True (safe after BatchNorm, whose backward does not need its output).
#include "nn/module.hpp"
#include "nn/switching.hpp"

#include <cstdint>
#include <vector>

namespace mtag::nn {

// Switching (nn/switching.hpp) for ReLU and LeakyReLU: frozen, forward applies the last unfrozen pass's mask.
class Activation : public Module, public Switching {
  public:
    enum class Kind { relu, leaky_relu, elu, selu, sigmoid, tanh, hard_sigmoid };
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override;
    nlohmann::json config() const override;

    // Fusion into the BatchNorm before it (nn/layers/batchnorm.hpp): whether this activation can run on
    // blocks of that BN's output of `shape`, whose channel rows hold `row` values each: an in-place ReLU,
    // LeakyReLU, ELU or SELU (switches not frozen), with rows of whole 16-value mask groups.
    bool fuses_after(const Shape& shape, std::int64_t row) const;
    // Starts a fused forward over y (the BN's output): records what forward() would (shape, mask size,
    // the output ELU kinds keep for backward).
    void begin_fused(const Tensor& y);
    // Applies the activation in place to y[offset, offset + count) of the tensor begun above; offset a
    // multiple of 16. Safe from several threads on disjoint ranges.
    void apply_fused(float* y, std::int64_t offset, std::int64_t count);

  protected:
    Activation(Kind kind, float alpha, bool inplace);

  private:
    Tensor forward_frozen(const Tensor& input, Tensor& y);  // ReLU kinds with frozen switches
    // ReLU kinds (mask bits too; offset a multiple of 16), ELU and SELU: out[offset, offset + count) from x.
    void forward_span(const float* x, float* out, std::int64_t offset, std::int64_t count);

    Kind m_kind;
    float m_alpha;  // LeakyReLU negative_slope, ELU alpha or HardSigmoid slope
    bool m_inplace;
    Tensor m_output;
    Tensor m_cache;                    // ELU, Sigmoid, Tanh: the last output
    std::vector<std::uint8_t> m_mask;  // ReLU, LeakyReLU: bit i set where the last input's x[i] > 0
    Shape m_shape;                     // of the last input
    bool m_has_forward = false;
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

// scale * x for x > 0, scale * alpha * (exp(x) - 1) otherwise, with torch.nn.SELU's constants
// alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946 (Klambauer et al.
// 2017, "Self-Normalizing Neural Networks"). The derivative comes from the cached output: scale for y > 0,
// y + scale * alpha otherwise.
class SELU : public Activation {
  public:
    static constexpr double alpha = 1.6732632423543772848170429916717;
    static constexpr double scale = 1.0507009873554804934193349852946;
    explicit SELU(bool inplace = false) : Activation(Kind::selu, 0.0f, inplace) {}
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

// clip(slope * x + 0.5, 0, 1); the default slope 0.2 is Keras 1's hard_sigmoid (the gate function of its
// GRU/LSTM), NOT torch.nn.Hardsigmoid, which is slope 1/6. Derivative slope where 0 < y < 1 (|x| < 0.5 /
// slope), 0 where clipped; taken from the cached output, so an input within float rounding of the kink
// may be counted as clipped. ref: Keras 1.2 backend hard_sigmoid; theano.tensor.nnet.hard_sigmoid.
class HardSigmoid : public Activation {
  public:
    explicit HardSigmoid(float slope = 0.2f) : Activation(Kind::hard_sigmoid, slope, false) {}
};

}  // namespace mtag::nn
