#include "nn/train/regularization.hpp"

#include "dsp/error.hpp"
#include "nn/optim/weight_decay.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace mtag::nn {

namespace {

bool is_weight(const Parameter& p) {
    return p.value.rank() >= 2 && !p.is_bias_or_norm;
}


void require(double value, const char* name) {
    if (!std::isfinite(value) || value < 0)
        throw Error(std::string("regularization option ") + name,
                    "got " + std::to_string(value) + ", expected a finite value >= 0 (0 = off)");
}

}  // namespace

void RegularizationOptions::validate() const {
    require(l1, "l1");
    require(l2, "l2");
    require(max_norm, "max_norm");
    require(clip_grad_norm, "clip_grad_norm");
    require(clip_grad_value, "clip_grad_value");
}

double penalty(const std::vector<Parameter*>& params, const RegularizationOptions& o) {
    double l1 = 0, l2 = 0;
    for (const Parameter* p : params) {
        if (!decays(*p, o.decay_bias_and_norm)) continue;
        const float* w = p->data();
        for (std::size_t i = 0; i < p->size(); ++i) {
            l1 += std::abs(static_cast<double>(w[i]));
            l2 += static_cast<double>(w[i]) * w[i];
        }
    }
    return o.l1 * l1 + 0.5 * o.l2 * l2;
}

void add_penalty_gradients(const std::vector<Parameter*>& params, const RegularizationOptions& o) {
    if (!(o.l1 > 0) && !(o.l2 > 0)) return;
    for (Parameter* p : params)
        if (decays(*p, o.decay_bias_and_norm))
            add_decay_gradient(p->data(), p->grad_data(), p->grad_data(), p->size(), static_cast<float>(o.l1),
                               static_cast<float>(o.l2));
}

void clip_grad_value(const std::vector<Parameter*>& params, double clip_value) {
    if (!(clip_value > 0))
        throw Error("clip_grad_value", "clip_value = " + std::to_string(clip_value) + ", expected > 0");
    const auto v = static_cast<float>(clip_value);
    for (Parameter* p : params) {
        if (!p->requires_grad) continue;
        float* g = p->grad_data();
        for (std::size_t i = 0; i < p->size(); ++i) g[i] = std::clamp(g[i], -v, v);
    }
}

void apply_max_norm(const std::vector<Parameter*>& params, double max_norm) {
    if (!(max_norm > 0)) throw Error("max_norm", "max_norm = " + std::to_string(max_norm) + ", expected > 0");
    for (Parameter* p : params) {
        if (!p->requires_grad || !is_weight(*p)) continue;
        const std::int64_t units = p->shape()[0];
        const std::size_t per_unit = p->size() / static_cast<std::size_t>(units);
        float* w = p->data();
        for (std::int64_t u = 0; u < units; ++u) {
            float* row = w + static_cast<std::size_t>(u) * per_unit;
            double sum = 0;
            for (std::size_t i = 0; i < per_unit; ++i) sum += static_cast<double>(row[i]) * row[i];
            const double norm = std::sqrt(sum);
            if (norm <= max_norm) continue;
            const auto factor = static_cast<float>(max_norm / (norm + 1e-7));  // ref: ATen renorm
            for (std::size_t i = 0; i < per_unit; ++i) row[i] *= factor;
        }
    }
}

double regularize_gradients(const std::vector<Parameter*>& params, const RegularizationOptions& o) {
    add_penalty_gradients(params, o);
    double norm = 0;
    if (o.clip_grad_norm > 0) norm = clip_grad_norm(params, o.clip_grad_norm);
    if (o.clip_grad_value > 0) clip_grad_value(params, o.clip_grad_value);
    return norm;
}

}  // namespace mtag::nn
