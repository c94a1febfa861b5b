#include "nn/model_gradcheck.hpp"

#include "dsp/error.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/switching.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace mtag::nn {

namespace {

std::string layer_of(const std::string& parameter) {
    const auto dot = parameter.rfind('.');
    return dot == std::string::npos ? std::string("(model)") : parameter.substr(0, dot);
}

// The parameters of one layer (a module owning parameters), in the model's parameter order.
struct LayerParameters {
    std::string layer;
    std::vector<Parameter*> parameters;
};

std::vector<LayerParameters> layers_of(Module& model) {
    std::map<std::string, std::size_t> index_of;
    std::vector<LayerParameters> layers;
    for (Parameter* p : model.parameters()) {
        if (!p->requires_grad) continue;
        const std::string layer = layer_of(p->name);
        auto [it, fresh] = index_of.emplace(layer, layers.size());
        if (fresh) layers.push_back({layer, {}});
        layers[it->second].parameters.push_back(p);
    }
    return layers;
}

// The loss L = sum c_i y_i of one deterministic forward pass.
class ProjectedLoss {
  public:
    ProjectedLoss(Module& model, const Tensor& input, std::uint64_t seed)
        : m_model(model), m_input(input), m_dropouts(modules_of_type<Dropout>(model)), m_seed(seed) {}

    double operator()() {
        for (std::size_t d = 0; d < m_dropouts.size(); ++d) m_dropouts[d]->seed(m_seed * 1000003ULL + d);
        const Tensor y = m_model.forward(m_input);
        if (m_c.empty()) {
            std::mt19937_64 rng(m_seed ^ 0x9e3779b97f4a7c15ULL);
            std::normal_distribution<double> normal(0.0, 1.0);
            m_c.resize(y.size());
            for (double& c : m_c) c = normal(rng);
        }
        double loss = 0;
        for (std::size_t i = 0; i < y.size(); ++i) loss += m_c[i] * static_cast<double>(y.data()[i]);
        m_shape = y.shape();
        return loss;
    }

    // Loss and backward: parameter gradients hold d L / d w afterwards.
    void backward() {
        (*this)();
        Tensor g(m_shape);
        for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = static_cast<float>(m_c[i]);
        m_model.backward(g);
    }

  private:
    Module& m_model;
    const Tensor& m_input;
    std::vector<Dropout*> m_dropouts;
    std::uint64_t m_seed;
    std::vector<double> m_c;
    Shape m_shape;
};

// One compared value: a directional derivative or a partial derivative, analytic and numerical.
struct Comparison {
    std::string what;  // "direction 2" or "conv.weight[17]"
    double analytic, numeric;
    double at_h = 0, at_half_h = 0;  // the central differences at h and h/2 (the Richardson inputs)
};

std::string describe(const Comparison& c) {
    char text[240];
    std::snprintf(text, sizeof text, "%s: analytic %.6g, numerical %.6g (step h %.6g, h/2 %.6g)", c.what.c_str(),
                  c.analytic, c.numeric, c.at_h, c.at_half_h);
    return text;
}

double relative_error(const Comparison& c, double floor) {
    return std::abs(c.analytic - c.numeric) / std::max({std::abs(c.analytic), std::abs(c.numeric), floor});
}

// Directions mode: returns the layer's comparisons and its typical directional derivative.
std::vector<Comparison> check_directions(ProjectedLoss& loss, const LayerParameters& lp, std::size_t layer_index,
                                         const GradcheckOptions& o, double& typical) {
    // Per-entry scale of each tensor: its RMS, at least 1/10 of the layer's (a zero-initialised bias or
    // BatchNorm shift still moves), 1 for an all-zero layer.
    double layer_sq = 0;
    std::size_t layer_n = 0;
    for (Parameter* p : lp.parameters) {
        for (std::size_t i = 0; i < p->size(); ++i) layer_sq += double(p->data()[i]) * p->data()[i];
        layer_n += p->size();
    }
    const double layer_rms = layer_n ? std::sqrt(layer_sq / double(layer_n)) : 0.0;
    std::vector<double> scale;       // RMS x sqrt(size): the length of the tensor's part of v
    std::vector<Tensor> original;
    double expected_sq = 0;          // E[(g . v)^2] = sum_p scale_p^2 |g_p|^2 / size_p
    for (Parameter* p : lp.parameters) {
        double sq = 0, gsq = 0;
        for (std::size_t i = 0; i < p->size(); ++i) {
            sq += double(p->data()[i]) * p->data()[i];
            gsq += double(p->grad_data()[i]) * p->grad_data()[i];
        }
        double rms = std::max(std::sqrt(sq / double(p->size())), 0.1 * layer_rms);
        if (rms == 0) rms = 1;
        scale.push_back(rms * std::sqrt(double(p->size())));
        expected_sq += rms * rms * gsq;
        original.push_back(p->value.clone());
    }

    std::vector<Comparison> out;
    std::vector<std::vector<float>> v(lp.parameters.size());
    for (std::size_t k = 0; k < o.directions; ++k) {
        std::mt19937_64 rng(o.seed * 7919ULL + layer_index * 104729ULL + k + 1);
        std::normal_distribution<double> normal(0.0, 1.0);
        double analytic = 0;
        for (std::size_t j = 0; j < lp.parameters.size(); ++j) {
            Parameter* p = lp.parameters[j];
            std::vector<double> d(p->size());
            double norm = 0;
            for (double& x : d) {
                x = normal(rng);
                norm += x * x;
            }
            norm = std::sqrt(norm);
            v[j].resize(p->size());
            for (std::size_t i = 0; i < p->size(); ++i) {
                v[j][i] = static_cast<float>(scale[j] * d[i] / norm);
                analytic += double(p->grad_data()[i]) * v[j][i];
            }
        }
        // L at w + t v, w restored afterwards.
        auto at = [&](double t) {
            for (std::size_t j = 0; j < lp.parameters.size(); ++j) {
                float* w = lp.parameters[j]->data();
                const float* w0 = original[j].data();
                for (std::size_t i = 0; i < v[j].size(); ++i) w[i] = static_cast<float>(w0[i] + t * v[j][i]);
            }
            const double l = loss();
            for (std::size_t j = 0; j < lp.parameters.size(); ++j) lp.parameters[j]->value.copy_from(original[j]);
            return l;
        };
        const double h = o.eps;
        const double n1 = (at(h) - at(-h)) / (2 * h), n2 = (at(h / 2) - at(-h / 2)) / h;
        out.push_back({"direction " + std::to_string(k), analytic, (4 * n2 - n1) / 3, n1, n2});
    }
    double numeric_sq = 0;
    for (const Comparison& c : out) numeric_sq += c.numeric * c.numeric;
    typical = std::max(std::sqrt(expected_sq), out.empty() ? 0.0 : std::sqrt(numeric_sq / double(out.size())));
    return out;
}

// Entries mode: returns the sampled entries that are smooth at step h, counting the others in `skipped`.
std::vector<Comparison> check_entries(ProjectedLoss& loss, const LayerParameters& lp, std::mt19937_64& rng,
                                      const GradcheckOptions& o, std::size_t& skipped) {
    std::vector<Comparison> out;
    for (Parameter* p : lp.parameters) {
        // Entries drawn until `samples` are smooth (at most 4x as many tries); every entry for small tensors.
        std::vector<std::size_t> order(p->size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        std::size_t smooth = 0, tried = 0;
        for (std::size_t index : order) {
            if (smooth >= o.samples || tried >= 4 * o.samples) break;
            ++tried;
            float& w = p->data()[index];
            const float w0 = w;
            auto central = [&](double h) {
                w = static_cast<float>(w0 + h);
                const double hi = loss();
                const double h_hi = static_cast<double>(w) - w0;  // the step float32 really took
                w = static_cast<float>(w0 - h);
                const double lo = loss();
                const double h_lo = w0 - static_cast<double>(w);
                w = w0;
                return (hi - lo) / (h_hi + h_lo);
            };
            const double n1 = central(o.eps), n2 = central(o.eps / 2);
            const double scale = std::max({std::abs(n1), std::abs(n2), 1e-6});
            // Stricter than the pass mark, so that an accepted entry's finite difference is itself trustworthy.
            if (std::abs(n1 - n2) > 0.5 * o.tolerance * scale) {
                ++skipped;
                continue;
            }
            ++smooth;
            out.push_back({p->name + "[" + std::to_string(index) + "]", p->grad_data()[index], (4 * n2 - n1) / 3, n1, n2});
        }
    }
    return out;
}

}  // namespace

GradcheckResult gradcheck(Module& model, const Tensor& input, const GradcheckOptions& o) {
    std::vector<Tensor> buffers;  // BatchNorm running statistics move with every training forward: restored
    for (Buffer* b : model.buffers()) buffers.push_back(b->value.clone());
    const bool input_grad = model.input_grad();
    model.set_input_grad(false);  // parameters only: a fixed front end (DftMelgram) has no input gradient
    model.train();
    ProjectedLoss loss(model, input, o.seed);
    model.zero_grad();
    loss.backward();
    // Every perturbed pass below keeps the base pass's ReLU masks and argmaxes: the function differentiated
    // numerically is the smooth piece backward differentiated analytically (nn/switching.hpp).
    const FrozenSwitches frozen(model);

    const std::vector<LayerParameters> layers = layers_of(model);
    GradcheckResult result;
    std::vector<std::vector<Comparison>> compared(layers.size());
    std::vector<double> floors(layers.size());
    std::mt19937_64 rng(o.seed + 17);
    double largest_typical = 0;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        LayerGradcheck lr;
        lr.layer = layers[l].layer;
        for (Parameter* p : layers[l].parameters) lr.parameters += p->size();
        if (o.mode == GradcheckMode::directions) {
            double typical = 0;
            compared[l] = check_directions(loss, layers[l], l, o, typical);
            floors[l] = 0.1 * typical;
            largest_typical = std::max(largest_typical, typical);
        } else {
            compared[l] = check_entries(loss, layers[l], rng, o, lr.skipped);
            double sum_sq = 0;
            for (const Comparison& c : compared[l]) sum_sq += std::max(c.analytic * c.analytic, c.numeric * c.numeric);
            const double rms = compared[l].empty() ? 0 : std::sqrt(sum_sq / double(compared[l].size()));
            floors[l] = 1e-2 * rms;
            // As in directions mode, the model's largest layer scale also floors every layer: an exactly zero
            // gradient (a conv bias before a training-mode BatchNorm, which removes any per-channel shift)
            // comes out of float32 as noise of about 1e-3 of the model's gradients on both sides, and
            // comparing two noises relatively means nothing.
            largest_typical = std::max(largest_typical, rms);
        }
        result.layers.push_back(lr);
    }
    for (std::size_t l = 0; l < layers.size(); ++l) {
        LayerGradcheck& lr = result.layers[l];
        const double floor = std::max({floors[l], 1e-2 * largest_typical, 1e-12});
        for (const Comparison& c : compared[l]) {
            const double err = relative_error(c, floor);
            ++lr.checked;
            if (err >= lr.worst_error) {
                lr.worst_error = err;
                lr.worst_entry = describe(c);
            }
        }
        // A layer none of whose sampled entries was smooth at the step was not checked at all: not a pass.
        lr.passed = lr.worst_error <= o.tolerance && lr.checked > 0;
        if (lr.checked == 0) lr.worst_entry = "no sampled entry is smooth at step h (try another --eps)";
        if (!lr.passed) {
            result.passed = false;
            result.first_failure = lr.layer;  // the last failing layer in forward order
        }
    }
    model.zero_grad();
    model.set_input_grad(input_grad);
    std::size_t k = 0;
    for (Buffer* b : model.buffers()) b->value.copy_from(buffers[k++]);
    return result;
}

std::string to_string(GradcheckMode mode) { return mode == GradcheckMode::directions ? "directions" : "entries"; }

GradcheckMode parse_gradcheck_mode(const std::string& text) {
    if (text == "directions") return GradcheckMode::directions;
    if (text == "entries") return GradcheckMode::entries;
    throw Error("gradcheck --mode '" + text + "'", "is not a mode: use directions (the default) or entries");
}

}  // namespace mtag::nn
