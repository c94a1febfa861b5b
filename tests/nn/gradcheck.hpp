#pragma once
// Finite-difference gradient checks shared by the layer and loss tests.
// The scalar under test is L = sum(y * r) for a fixed random r, accumulated in double; central
// differences with step `eps` are compared against the analytic backward pass. float32 forward
// passes limit the attainable accuracy, so errors are measured relative to the gradient's scale.
#include "nn/module.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>

namespace mtag::nn::test {

inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    Tensor t(shape);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    for (float& v : t.span()) v = u(rng);
    return t;
}

inline double dot(const Tensor& a, const Tensor& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
    return s;
}

// Largest |analytic - numeric| divided by max(1, max |numeric|) over all checked elements.
struct GradError {
    double input = 0.0;
    double param = 0.0;
};

// Checks d(sum(forward(x) * r))/dx and /dparams. Evaluates at most `max_checks` elements per tensor
// (evenly spread) to keep tests fast. The module must be deterministic between calls (eval-mode
// dropout, or BN whose output does not depend on running statistics in training mode).
inline GradError gradcheck(Module& m, const Tensor& x, std::uint64_t seed = 7, float eps = 1e-2f,
                           std::size_t max_checks = 60) {
    Tensor y = m.forward(x);
    const Tensor r = random_tensor(y.shape(), seed);
    m.zero_grad();
    const Tensor gx = m.backward(r.clone()).clone();  // a clone: backward may consume its argument
    std::vector<Tensor> analytic;
    for (Parameter* p : m.parameters()) analytic.push_back(p->grad.clone());

    auto loss = [&]() { return dot(m.forward(x), r); };
    auto check = [&](const Tensor& value, const Tensor& grad) {
        double worst = 0.0, scale = 1.0;
        const std::size_t n = value.size();
        const std::size_t step = std::max<std::size_t>(1, n / max_checks);
        std::vector<std::pair<double, double>> pairs;
        for (std::size_t i = 0; i < n; i += step) {
            const float saved = value[i];
            value[i] = saved + eps;
            const double up = loss();
            value[i] = saved - eps;
            const double down = loss();
            value[i] = saved;
            const double numeric = (up - down) / (2.0 * static_cast<double>(eps));
            pairs.emplace_back(numeric, grad[i]);
            scale = std::max(scale, std::abs(numeric));
        }
        for (auto [numeric, a] : pairs) worst = std::max(worst, std::abs(numeric - a) / scale);
        return worst;
    };
    GradError e;
    if (gx.defined()) e.input = check(x, gx);
    std::size_t k = 0;
    for (Parameter* p : m.parameters()) e.param = std::max(e.param, check(p->value, analytic[k++]));
    return e;
}

}  // namespace mtag::nn::test
