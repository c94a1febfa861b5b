#include "nn/models/activation_spec.hpp"

#include "dsp/error.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/maxout.hpp"

#include <cmath>

namespace mtag::nn::models {

namespace {
const char* const k_names = "relu, leaky_relu, elu, selu, tanh, sigmoid or maxout";
}

std::string ActivationSpec::name() const {
    switch (kind) {
        case Kind::relu:
            return "relu";
        case Kind::leaky_relu:
            return "leaky_relu";
        case Kind::elu:
            return "elu";
        case Kind::selu:
            return "selu";
        case Kind::tanh:
            return "tanh";
        case Kind::sigmoid:
            return "sigmoid";
        case Kind::maxout:
            return "maxout";
    }
    return "relu";
}

void ActivationSpec::validate(const std::string& where) const {
    if (!(negative_slope >= 0) || !std::isfinite(negative_slope))
        throw Error(where,
                    "activation negative_slope = " + std::to_string(negative_slope) + ", expected >= 0");
    if (!(alpha > 0) || !std::isfinite(alpha))
        throw Error(where, "activation alpha = " + std::to_string(alpha) + ", expected > 0");
    if (pieces < 2 || pieces > 255)
        throw Error(where, "activation pieces = " + std::to_string(pieces) + ", expected 2 to 255");
}

ActivationSpec parse_activation(const std::string& name) {
    using K = ActivationSpec::Kind;
    ActivationSpec s;
    if (name == "relu")
        s.kind = K::relu;
    else if (name == "leaky_relu")
        s.kind = K::leaky_relu;
    else if (name == "elu")
        s.kind = K::elu;
    else if (name == "selu")
        s.kind = K::selu;
    else if (name == "tanh")
        s.kind = K::tanh;
    else if (name == "sigmoid")
        s.kind = K::sigmoid;
    else if (name == "maxout")
        s.kind = K::maxout;
    else
        throw Error("model options", "activation '" + name + "', expected " + k_names);
    return s;
}

std::shared_ptr<Module> make_activation(const ActivationSpec& spec) {
    using K = ActivationSpec::Kind;
    switch (spec.kind) {
        case K::relu:
            return std::make_shared<ReLU>(true);
        case K::leaky_relu:
            return std::make_shared<LeakyReLU>(static_cast<float>(spec.negative_slope), true);
        case K::elu:
            return std::make_shared<ELU>(static_cast<float>(spec.alpha), true);
        case K::selu:
            return std::make_shared<SELU>(true);
        case K::tanh:
            return std::make_shared<Tanh>();
        case K::sigmoid:
            return std::make_shared<Sigmoid>();
        case K::maxout:
            return std::make_shared<Maxout>(MaxoutOptions{.pieces = spec.pieces});
    }
    return std::make_shared<ReLU>(true);
}

void to_json(nlohmann::json& j, const ActivationSpec& spec) {
    using K = ActivationSpec::Kind;
    const ActivationSpec defaults;
    if (spec.kind == K::leaky_relu && spec.negative_slope != defaults.negative_slope)
        j = {{"name", spec.name()}, {"negative_slope", spec.negative_slope}};
    else if (spec.kind == K::elu && spec.alpha != defaults.alpha)
        j = {{"name", spec.name()}, {"alpha", spec.alpha}};
    else if (spec.kind == K::maxout && spec.pieces != defaults.pieces)
        j = {{"name", spec.name()}, {"pieces", spec.pieces}};
    else
        j = spec.name();
}

void from_json(const nlohmann::json& j, ActivationSpec& spec) {
    using K = ActivationSpec::Kind;
    const std::string where = "model option activation";
    if (j.is_string()) {
        spec = parse_activation(j.get<std::string>());
        return;
    }
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
        throw Error(where, std::string("expected a name (") + k_names +
                               ") or {\"name\": ..., parameters}, got " + j.dump());
    spec = parse_activation(j["name"].get<std::string>());
    for (const auto& [key, value] : j.items()) {
        if (key == "name") continue;
        const bool known = (key == "negative_slope" && spec.kind == K::leaky_relu) ||
                           (key == "alpha" && spec.kind == K::elu) ||
                           (key == "pieces" && spec.kind == K::maxout);
        if (!known)
            throw Error(where, "unknown key '" + key + "' for " + spec.name() +
                                   "; parameters: negative_slope (leaky_relu), alpha (elu), pieces (maxout)");
        if (key == "pieces") {
            if (!value.is_number_integer())
                throw Error(where, "pieces must be an integer, got " + value.dump());
            spec.pieces = value.get<std::int64_t>();
        } else {
            if (!value.is_number()) throw Error(where, key + " must be a number, got " + value.dump());
            (key == "alpha" ? spec.alpha : spec.negative_slope) = value.get<double>();
        }
    }
    spec.validate(where);
}

}  // namespace mtag::nn::models
