#include "nn/model_gradcheck.hpp"

#include "nn/layers/dropout.hpp"

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

struct Entry {
    Parameter* p;
    std::size_t index;
    double analytic, numeric;
};

}  // namespace

GradcheckResult gradcheck(Module& model, const Tensor& input, const GradcheckOptions& o) {
    std::vector<Tensor> buffers;  // BatchNorm running statistics move with every training forward: restored
    for (Buffer* b : model.buffers()) buffers.push_back(b->value.clone());
    model.train();
    ProjectedLoss loss(model, input, o.seed);
    model.zero_grad();
    loss.backward();

    std::mt19937_64 rng(o.seed + 17);
    std::map<std::string, std::size_t> index_of;  // layer -> position in result.layers
    GradcheckResult result;
    std::vector<std::vector<Entry>> entries;
    for (Parameter* p : model.parameters()) {
        if (!p->requires_grad) continue;
        const std::string layer = layer_of(p->name);
        auto [it, fresh] = index_of.emplace(layer, result.layers.size());
        if (fresh) {
            result.layers.emplace_back();
            result.layers.back().layer = layer;
            entries.emplace_back();
        }
        LayerGradcheck& lr = result.layers[it->second];
        lr.parameters += p->size();
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
                ++lr.skipped;
                continue;
            }
            ++smooth;
            entries[it->second].push_back({p, index, p->grad_data()[index], (4 * n2 - n1) / 3});
        }
    }
    for (std::size_t l = 0; l < result.layers.size(); ++l) {
        LayerGradcheck& lr = result.layers[l];
        double sum_sq = 0;
        for (const Entry& e : entries[l]) sum_sq += std::max(e.analytic * e.analytic, e.numeric * e.numeric);
        const double rms = entries[l].empty() ? 0 : std::sqrt(sum_sq / static_cast<double>(entries[l].size()));
        const double floor = std::max(1e-2 * rms, 1e-9);
        for (const Entry& e : entries[l]) {
            const double err = std::abs(e.analytic - e.numeric) / std::max({std::abs(e.analytic), std::abs(e.numeric), floor});
            ++lr.checked;
            if (err >= lr.worst_error) {
                lr.worst_error = err;
                char text[200];
                std::snprintf(text, sizeof text, "%s[%zu]: analytic %.6g, numerical %.6g", e.p->name.c_str(), e.index,
                              e.analytic, e.numeric);
                lr.worst_entry = text;
            }
        }
        lr.passed = lr.worst_error <= o.tolerance;
        if (!lr.passed) {
            result.passed = false;
            result.first_failure = lr.layer;  // the last failing layer in forward order
        }
    }
    model.zero_grad();
    std::size_t k = 0;
    for (Buffer* b : model.buffers()) b->value.copy_from(buffers[k++]);
    return result;
}

}  // namespace mtag::nn
