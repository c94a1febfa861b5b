#pragma once
// Weight initialisation, PyTorch's formulas: fan_in = size(1) * receptive field, fan_out = size(0) *
// receptive field (receptive field = product of kernel dims); gains: linear/sigmoid 1, tanh 5/3,
// relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)). Every function takes an explicit generator.
// ref: torch.nn.init (kaiming_*, xavier_*, _calculate_fan_in_and_fan_out, calculate_gain).
//
// orthogonal follows torch.nn.init.orthogonal_ (Saxe et al. 2014): a Gaussian matrix of (size(0),
// numel / size(0)), QR-factored (transposed first when it is wide), Q's columns multiplied by the signs of
// R's diagonal so that the factorisation is unique, times gain. The QR is LAPACK's (dgeqrf + dorgqr from
// OpenBLAS), like torch.linalg.qr's on CPU.
//
// Defaults: layers are built with zero weights; a model calls initialize() once with a seed.
// Scheme::he (kaiming normal, fan_in, relu gain) is the default for conv/linear layers followed by
// ReLU; Scheme::torch_default reproduces PyTorch's own layer reset (kaiming_uniform with a = sqrt(5),
// i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases). BatchNorm: weight 1, bias 0.
#include "nn/module.hpp"

#include <random>
#include <string>
#include <vector>

namespace mtag::nn::init {

enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu, selu };
enum class FanMode { fan_in, fan_out };

// calculate_gain(nonlinearity, param) as in PyTorch (param = negative slope for leaky_relu; selu 3/4).
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
// torch.nn.init.orthogonal_: rows (size(0)) orthonormal when rows <= numel / rows, columns otherwise, times
// gain. Draws rows * cols standard normal values from rng in row-major order.
void orthogonal(Tensor& t, std::mt19937_64& rng, double gain = 1.0);
// The deterministic half of orthogonal(): the sign-fixed Q of a given row-major (rows, cols) matrix `a`,
// row-major (rows, cols), times gain (torch: q, r = linalg.qr(a or a.T); q *= sign(diag(r))).
std::vector<double> orthogonal_factor(std::vector<double> a, std::int64_t rows, std::int64_t cols, double gain = 1.0);

enum class Scheme { he_normal, he_uniform, xavier_normal, xavier_uniform, small_normal, orthogonal, torch_default };
// Parses "he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "small_normal", "orthogonal",
// "torch_default" (and the aliases kaiming_* and glorot_*).
Scheme parse_scheme(const std::string& name);
std::string to_string(Scheme scheme);

struct InitOptions {
    Scheme scheme = Scheme::he_normal;
    std::uint64_t seed = 0;
    double small_std = 0.01;  // std of Scheme::small_normal
    double gain = 1.0;        // gain of xavier_* and orthogonal (torch's argument of the same name)
};

// A model option "init": a scheme name ("orthogonal") or {"name": "small_normal", "std": 0.02} /
// {"name": "orthogonal", "gain": 1.4142}. Written back as the bare name when std and gain are the defaults,
// so model cards of the plain schemes keep their form.
struct InitSpec {
    Scheme scheme = Scheme::he_normal;
    double std = 0.01;  // small_normal only
    double gain = 1.0;  // xavier_*, orthogonal only
    InitOptions options(std::uint64_t seed) const {
        return {.scheme = scheme, .seed = seed, .small_std = std, .gain = gain};
    }
};
// nlohmann::json conversions (found by ADL): unknown keys, unknown names and std <= 0 / gain <= 0 throw.
void to_json(nlohmann::json& j, const InitSpec& spec);
void from_json(const nlohmann::json& j, InitSpec& spec);

// Initialises every parameter of a model in registration order from one seeded generator: weights of
// rank >= 2 by the scheme, biases 0 (U(+-1/sqrt(fan_in)) for torch_default), BatchNorm weight 1 and bias 0.
void initialize(Module& model, const InitOptions& options);

}  // namespace mtag::nn::init
