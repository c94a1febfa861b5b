#include "nn/init.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <set>

// LAPACK from OpenBLAS (Fortran symbols; no character arguments, so no hidden lengths).
extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
}

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
        case Nonlinearity::selu:
            return 0.75;
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

std::vector<double> orthogonal_factor(std::vector<double> a, std::int64_t rows, std::int64_t cols, double g) {
    if (rows < 1 || cols < 1 || a.size() != static_cast<std::size_t>(rows * cols))
        throw Error("nn::init::orthogonal", "matrix of " + std::to_string(a.size()) + " values for " +
                                                std::to_string(rows) + " x " + std::to_string(cols));
    // torch factors the tall orientation: m >= n. Column-major storage of the (m, n) matrix for LAPACK.
    const bool wide = rows < cols;
    const int m = static_cast<int>(wide ? cols : rows), n = static_cast<int>(wide ? rows : cols);
    std::vector<double> q(static_cast<std::size_t>(m) * n);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const double v = a[static_cast<std::size_t>(r * cols + c)];
            // (i, j) of the tall matrix: (r, c), or (c, r) when transposed.
            const std::int64_t i = wide ? c : r, j = wide ? r : c;
            q[static_cast<std::size_t>(i + j * m)] = v;
        }
    std::vector<double> tau(static_cast<std::size_t>(n));
    int info = 0, lwork = -1;
    double query = 0;
    dgeqrf_(&m, &n, q.data(), &m, tau.data(), &query, &lwork, &info);
    lwork = std::max(1, static_cast<int>(query));
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dgeqrf_(&m, &n, q.data(), &m, tau.data(), work.data(), &lwork, &info);
    if (info != 0) throw Error("nn::init::orthogonal", "LAPACK dgeqrf failed, info " + std::to_string(info));
    std::vector<double> sign(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) {
        const double d = q[static_cast<std::size_t>(j + j * m)];
        sign[static_cast<std::size_t>(j)] = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;  // torch.sign
    }
    lwork = -1;
    dorgqr_(&m, &n, &n, q.data(), &m, tau.data(), &query, &lwork, &info);
    lwork = std::max(1, static_cast<int>(query));
    work.assign(static_cast<std::size_t>(lwork), 0.0);
    dorgqr_(&m, &n, &n, q.data(), &m, tau.data(), work.data(), &lwork, &info);
    if (info != 0) throw Error("nn::init::orthogonal", "LAPACK dorgqr failed, info " + std::to_string(info));
    std::vector<double> out(a.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            const std::int64_t i = wide ? c : r, j = wide ? r : c;
            out[static_cast<std::size_t>(r * cols + c)] =
                q[static_cast<std::size_t>(i + j * m)] * sign[static_cast<std::size_t>(j)] * g;
        }
    return out;
}

void orthogonal(Tensor& t, std::mt19937_64& rng, double g) {
    if (t.rank() < 2) throw Error("nn::init::orthogonal", "needs a weight of rank >= 2, got " + t.shape().str());
    const std::int64_t rows = t.shape()[0];
    const std::int64_t cols = t.shape().numel() / rows;
    std::normal_distribution<double> d(0.0, 1.0);
    std::vector<double> a(static_cast<std::size_t>(rows * cols));
    for (double& v : a) v = d(rng);
    const std::vector<double> q = orthogonal_factor(std::move(a), rows, cols, g);
    float* out = t.data();
    for (std::size_t i = 0; i < q.size(); ++i) out[i] = static_cast<float>(q[i]);
}

std::string to_string(Scheme scheme) {
    switch (scheme) {
        case Scheme::he_normal:
            return "he_normal";
        case Scheme::he_uniform:
            return "he_uniform";
        case Scheme::xavier_normal:
            return "xavier_normal";
        case Scheme::xavier_uniform:
            return "xavier_uniform";
        case Scheme::small_normal:
            return "small_normal";
        case Scheme::orthogonal:
            return "orthogonal";
        case Scheme::torch_default:
            return "torch_default";
    }
    return "he_normal";
}

void to_json(nlohmann::json& j, const InitSpec& spec) {
    const bool plain = spec.std == 0.01 && spec.gain == 1.0;
    if (plain) {
        j = to_string(spec.scheme);
        return;
    }
    j = {{"name", to_string(spec.scheme)}};
    if (spec.scheme == Scheme::small_normal) j["std"] = spec.std;
    if (spec.gain != 1.0) j["gain"] = spec.gain;
}

void from_json(const nlohmann::json& j, InitSpec& spec) {
    const std::string where = "model option init";
    spec = InitSpec{};
    if (j.is_string()) {
        spec.scheme = parse_scheme(j.get<std::string>());
        return;
    }
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
        throw Error(where, "expected a scheme name or {\"name\": ..., \"std\" / \"gain\": ...}, got " + j.dump());
    spec.scheme = parse_scheme(j["name"].get<std::string>());
    for (const auto& [key, value] : j.items()) {
        if (key == "name") continue;
        if (key != "std" && key != "gain")
            throw Error(where, "unknown key '" + key + "'; expected name, std (small_normal) or gain (xavier_*, orthogonal)");
        if (!value.is_number()) throw Error(where, key + " must be a number, got " + value.dump());
        const double v = value.get<double>();
        if (!(v > 0) || !std::isfinite(v)) throw Error(where, key + " = " + value.dump() + ", expected > 0");
        if (key == "std") {
            if (spec.scheme != Scheme::small_normal) throw Error(where, "std applies to small_normal only");
            spec.std = v;
        } else {
            if (spec.scheme != Scheme::orthogonal && spec.scheme != Scheme::xavier_normal &&
                spec.scheme != Scheme::xavier_uniform)
                throw Error(where, "gain applies to orthogonal, xavier_normal and xavier_uniform only");
            spec.gain = v;
        }
    }
}

Scheme parse_scheme(const std::string& name) {
    if (name == "he_normal" || name == "kaiming_normal") return Scheme::he_normal;
    if (name == "he_uniform" || name == "kaiming_uniform") return Scheme::he_uniform;
    if (name == "xavier_normal" || name == "glorot_normal") return Scheme::xavier_normal;
    if (name == "xavier_uniform" || name == "glorot_uniform") return Scheme::xavier_uniform;
    if (name == "small_normal") return Scheme::small_normal;
    if (name == "orthogonal") return Scheme::orthogonal;
    if (name == "torch_default") return Scheme::torch_default;
    throw Error("init scheme '" + name + "'",
                "unknown; expected he_normal, he_uniform, xavier_normal, xavier_uniform, small_normal, orthogonal "
                "or torch_default");
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
                    xavier_normal(v, rng, options.gain);
                    break;
                case Scheme::xavier_uniform:
                    xavier_uniform(v, rng, options.gain);
                    break;
                case Scheme::orthogonal:
                    orthogonal(v, rng, options.gain);
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
