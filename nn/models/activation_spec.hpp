#pragma once
// The "activation" option of the tagging models: which nonlinearity follows each conv block and hidden
// dense layer. Written in JSON as a name, or as an object when it has parameters:
//   "relu" | "elu" | "selu" | "tanh" | "sigmoid" | "leaky_relu" | "maxout"
//   {"name": "leaky_relu", "negative_slope": 0.2}   (torch.nn.LeakyReLU, default 0.01)
//   {"name": "elu", "alpha": 1.0}                   (torch.nn.ELU, default 1)
//   {"name": "maxout", "pieces": 3}                 (nn/layers/maxout.hpp, default 2)
// Maxout needs `pieces` candidates per unit, so the conv or dense layer before it is built `pieces` times
// wider (and its BatchNorm with it); width() says by how much.
#include "nn/module.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace mtag::nn::models {

struct ActivationSpec {
    enum class Kind { relu, leaky_relu, elu, selu, tanh, sigmoid, maxout };
    Kind kind = Kind::relu;
    double negative_slope = 0.01;  // leaky_relu
    double alpha = 1.0;            // elu
    std::int64_t pieces = 2;       // maxout

    // "relu", "leaky_relu", ...: also the layer's name in a block ("layer1.relu").
    std::string name() const;
    // Units the preceding layer must produce per output unit (pieces for maxout, else 1).
    std::int64_t width() const { return kind == Kind::maxout ? pieces : 1; }
    // Throws mtag::Error(where, ...) for a bad parameter.
    void validate(const std::string& where) const;
};

// Parses a name; throws listing the valid names.
ActivationSpec parse_activation(const std::string& name);
// A new layer: ReLU, LeakyReLU, ELU and SELU in place (they always follow a BatchNorm, a Linear or a sum,
// whose backward does not need their own output), Tanh and Sigmoid not, Maxout.
std::shared_ptr<Module> make_activation(const ActivationSpec& spec);

// nlohmann::json conversions (ADL): the bare name when the parameters are the defaults.
void to_json(nlohmann::json& j, const ActivationSpec& spec);
void from_json(const nlohmann::json& j, ActivationSpec& spec);

}  // namespace mtag::nn::models
