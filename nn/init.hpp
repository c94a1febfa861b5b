#pragma once
// Weight initialisation, PyTorch's formulas: fan_in = size(1) * receptive field, fan_out = size(0) *
// receptive field (receptive field = product of kernel dims); gains: linear/sigmoid 1, tanh 5/3,
// relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)). Every function takes an explicit generator.
// ref: torch.nn.init (kaiming_*, xavier_*, _calculate_fan_in_and_fan_out, calculate_gain).
//
// Defaults: layers are built with zero weights; a model calls initialize() once with a seed.
// Scheme::he (kaiming normal, fan_in, relu gain) is the default for conv/linear layers followed by
// ReLU; Scheme::torch_default reproduces PyTorch's own layer reset (kaiming_uniform with a = sqrt(5),
// i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases). BatchNorm: weight 1, bias 0.
#include "nn/module.hpp"

#include <random>
#include <string>

namespace mtag::nn::init {

enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu };
enum class FanMode { fan_in, fan_out };

// calculate_gain(nonlinearity, param) as in PyTorch (param = negative slope for leaky_relu).
double gain(Nonlinearity nonlinearity, double param = 0.01);
// fan_in and fan_out of a weight of rank >= 2.
void fans(const Shape& shape, double& fan_in, double& fan_out);

void uniform(Tensor& t, double low, double high, std::mt19937_64& rng);
void normal(Tensor& t, double mean, double std, std::mt19937_64& rng);
void kaiming_uniform(Tensor& t, std::mt19937_64& rng, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
void kaiming_normal(Tensor& t, std::mt19937_64& rng, double a = 0.0, FanMode mode = FanMode::fan_in,
                    Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
void xavier_uniform(Tensor& t, std::mt19937_64& rng, double gain = 1.0);
void xavier_normal(Tensor& t, std::mt19937_64& rng, double gain = 1.0);

enum class Scheme { he_normal, he_uniform, xavier_normal, xavier_uniform, small_normal, torch_default };
// Parses "he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "small_normal", "torch_default".
Scheme parse_scheme(const std::string& name);

struct InitOptions {
    Scheme scheme = Scheme::he_normal;
    std::uint64_t seed = 0;
    double small_std = 0.01;  // std of Scheme::small_normal
};

// Initialises every parameter of a model in registration order from one seeded generator: weights of
// rank >= 2 by the scheme, biases 0 (U(+-1/sqrt(fan_in)) for torch_default), BatchNorm weight 1 and bias 0.
void initialize(Module& model, const InitOptions& options);

}  // namespace mtag::nn::init
