#pragma once
// nn::Parameter: a trainable tensor and its gradient, the unit optimizers work on.
// Gradients ACCUMULATE (+=) across backward() calls, as in PyTorch; optimizers call zero_grad().
#include "nn/tensor.hpp"

#include <cstddef>
#include <string>

namespace mtag::nn {

// A value tensor plus a gradient tensor of the same shape, a hierarchical name and flags.
struct Parameter {
    // Full dotted name inside the model, e.g. "features.0.weight" (kept up to date by Module).
    std::string name;
    Tensor value;  // the weights
    Tensor grad;   // d loss / d value, same shape as value, zero-initialised
    // False for frozen parameters: backward() skips their gradient and optimizers skip them.
    bool requires_grad = true;
    // True for biases and normalisation scales/shifts: excluded from weight decay by default.
    bool is_bias_or_norm = false;

    Parameter() = default;
    Parameter(std::string name_, const Shape& shape, bool bias_or_norm = false)
        : name(std::move(name_)), value(shape), grad(shape), is_bias_or_norm(bias_or_norm) {}

    float* data() { return value.data(); }
    const float* data() const { return value.data(); }
    float* grad_data() { return grad.data(); }
    const float* grad_data() const { return grad.data(); }
    // Number of elements (of value and of grad).
    std::size_t size() const { return value.size(); }
    const Shape& shape() const { return value.shape(); }
    void zero_grad() { grad.zero(); }
};

}  // namespace mtag::nn
