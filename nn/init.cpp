#include "nn/init.hpp"

#include "dsp/error.hpp"

#include <cmath>

namespace mtag::nn::init {

double gain(Nonlinearity nonlinearity, double param) {
    switch (nonlinearity) {
        case Nonlinearity::linear:
        case Nonlinearity::sigmoid:
            return 1.0;
        case Nonlinearity::tanh:
            return 5.0 / 3.0;
        case Nonlinearity::relu:
            return std::sqrt(2.0);
        case Nonlinearity::leaky_relu:
            return std::sqrt(2.0 / (1.0 + param * param));
    }
    return 1.0;
}

void fans(const Shape& shape, double& fan_in, double& fan_out) {
    if (shape.rank() < 2)
        throw Error("nn::init", "fan in and fan out need a weight of rank >= 2, got shape " + shape.str());
    double receptive = 1.0;
    for (int i = 2; i < shape.rank(); ++i) receptive *= static_cast<double>(shape[i]);
    fan_in = static_cast<double>(shape[1]) * receptive;
    fan_out = static_cast<double>(shape[0]) * receptive;
}

void uniform(Tensor& t, double low, double high, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(low, high);
    for (float& v : t.span()) v = static_cast<float>(u(rng));
}

void normal(Tensor& t, double mean, double std, std::mt19937_64& rng) {
    std::normal_distribution<double> d(mean, std);
    for (float& v : t.span()) v = static_cast<float>(d(rng));
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, Nonlinearity nl) {
    double fan_in, fan_out;
    fans(t.shape(), fan_in, fan_out);
    return gain(nl, a) / std::sqrt(mode == FanMode::fan_in ? fan_in : fan_out);
}
}  // namespace

void kaiming_uniform(Tensor& t, std::mt19937_64& rng, double a, FanMode mode, Nonlinearity nl) {
    const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nl);
    uniform(t, -bound, bound, rng);
}

void kaiming_normal(Tensor& t, std::mt19937_64& rng, double a, FanMode mode, Nonlinearity nl) {
    normal(t, 0.0, kaiming_std(t, a, mode, nl), rng);
}

void xavier_uniform(Tensor& t, std::mt19937_64& rng, double g) {
    double fan_in, fan_out;
    fans(t.shape(), fan_in, fan_out);
    const double bound = g * std::sqrt(6.0 / (fan_in + fan_out));
    uniform(t, -bound, bound, rng);
}

void xavier_normal(Tensor& t, std::mt19937_64& rng, double g) {
    double fan_in, fan_out;
    fans(t.shape(), fan_in, fan_out);
    normal(t, 0.0, g * std::sqrt(2.0 / (fan_in + fan_out)), rng);
}

Scheme parse_scheme(const std::string& name) {
    if (name == "he_normal" || name == "kaiming_normal") return Scheme::he_normal;
    if (name == "he_uniform" || name == "kaiming_uniform") return Scheme::he_uniform;
    if (name == "xavier_normal" || name == "glorot_normal") return Scheme::xavier_normal;
    if (name == "xavier_uniform" || name == "glorot_uniform") return Scheme::xavier_uniform;
    if (name == "small_normal") return Scheme::small_normal;
    if (name == "torch_default") return Scheme::torch_default;
    throw Error("init scheme '" + name + "'",
                "unknown; expected he_normal, he_uniform, xavier_normal, xavier_uniform, small_normal or "
                "torch_default");
}

void initialize(Module& model, const InitOptions& options) {
    std::mt19937_64 rng(options.seed);
    double last_fan_in = 1.0;        // fan_in of the preceding weight, for torch_default biases
    bool after_norm_weight = false;  // a bias right after a BatchNorm weight is a norm shift (0)
    for (Parameter* p : model.parameters()) {
        Tensor& v = p->value;
        if (v.rank() >= 2) {
            double fan_out;
            fans(v.shape(), last_fan_in, fan_out);
            after_norm_weight = false;
            switch (options.scheme) {
                case Scheme::he_normal:
                    kaiming_normal(v, rng, 0.0, FanMode::fan_in, Nonlinearity::relu);
                    break;
                case Scheme::he_uniform:
                    kaiming_uniform(v, rng, 0.0, FanMode::fan_in, Nonlinearity::relu);
                    break;
                case Scheme::xavier_normal:
                    xavier_normal(v, rng);
                    break;
                case Scheme::xavier_uniform:
                    xavier_uniform(v, rng);
                    break;
                case Scheme::small_normal:
                    normal(v, 0.0, options.small_std, rng);
                    break;
                case Scheme::torch_default:
                    kaiming_uniform(v, rng, std::sqrt(5.0), FanMode::fan_in, Nonlinearity::leaky_relu);
                    break;
            }
            continue;
        }
        // Biases by local name: "bias", recurrent layers' "bias_ih_l0" / "bias_hh_l0" and Keras's "b_z".
        const std::string local = p->name.substr(p->name.rfind('.') + 1);
        const bool is_bias = local == "bias" || local.starts_with("bias_") || local.starts_with("b_");
        const bool is_norm_weight = !is_bias && p->is_bias_or_norm;
        if (is_norm_weight) {
            v.fill(1.0f);
            after_norm_weight = true;
        } else if (is_bias && options.scheme == Scheme::torch_default && !after_norm_weight) {
            const double bound = 1.0 / std::sqrt(last_fan_in);
            uniform(v, -bound, bound, rng);
        } else {
            v.fill(0.0f);
            after_norm_weight = false;
        }
    }
}

}  // namespace mtag::nn::init
