// Convergence of every optimizer on an L2-regularised logistic regression over separable data
// (optimum from Newton's method in double), and momentum/Adam vs plain SGD on a badly conditioned quadratic.
#include "nn/optim/adabelief.hpp"
#include "nn/optim/adagrad.hpp"
#include "nn/optim/adam.hpp"
#include "nn/optim/diffgrad.hpp"
#include "nn/optim/radam.hpp"
#include "nn/optim/rmsprop.hpp"
#include "nn/optim/sgd.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <random>

using namespace mtag::nn;

namespace {

constexpr int kDim = 4;
constexpr int kN = 200;
constexpr double kLambda = 0.01;  // (lambda/2)|w|^2, bias not regularised

struct Data {
    std::vector<double> x;  // [kN, kDim]
    std::vector<double> y;  // +-1
};

// Separable: labels from a fixed hyperplane, points within 0.2 of it dropped.
Data make_data() {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> n01(0, 1);
    const double w_true[kDim] = {1.5, -2.0, 0.5, 1.0};
    Data d;
    while (d.y.size() < kN) {
        double x[kDim], s = 0.3;
        for (int j = 0; j < kDim; ++j) s += w_true[j] * (x[j] = n01(rng));
        if (std::fabs(s) < 0.2) continue;
        d.x.insert(d.x.end(), x, x + kDim);
        d.y.push_back(s > 0 ? 1 : -1);
    }
    return d;
}

// Loss and gradient at theta = (w[0..kDim), b) in double.
double loss_grad(const Data& d, const double* theta, double* grad) {
    double loss = 0;
    if (grad) std::fill(grad, grad + kDim + 1, 0.0);
    for (int i = 0; i < kN; ++i) {
        double z = theta[kDim];
        for (int j = 0; j < kDim; ++j) z += theta[j] * d.x[i * kDim + j];
        const double m = d.y[i] * z;
        loss += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
        if (grad) {
            const double s = -d.y[i] / (1 + std::exp(m)) / kN;
            for (int j = 0; j < kDim; ++j) grad[j] += s * d.x[i * kDim + j];
            grad[kDim] += s;
        }
    }
    loss /= kN;
    for (int j = 0; j < kDim; ++j) {
        loss += 0.5 * kLambda * theta[j] * theta[j];
        if (grad) grad[j] += kLambda * theta[j];
    }
    return loss;
}

// Newton's method on the (strictly convex) objective.
double optimum_loss(const Data& d) {
    constexpr int P = kDim + 1;
    double theta[P] = {0};
    for (int it = 0; it < 50; ++it) {
        double g[P], h[P][P] = {{0}};
        loss_grad(d, theta, g);
        for (int i = 0; i < kN; ++i) {
            double z = theta[kDim], xi[P];
            for (int j = 0; j < kDim; ++j) z += theta[j] * (xi[j] = d.x[i * kDim + j]);
            xi[kDim] = 1;
            const double p = 1 / (1 + std::exp(-z)), w = p * (1 - p) / kN;
            for (int a = 0; a < P; ++a)
                for (int b = 0; b < P; ++b) h[a][b] += w * xi[a] * xi[b];
        }
        for (int j = 0; j < kDim; ++j) h[j][j] += kLambda;
        // Solve h step = g by Gaussian elimination (symmetric positive definite, small).
        for (int c = 0; c < P; ++c)
            for (int r = c + 1; r < P; ++r) {
                const double f = h[r][c] / h[c][c];
                for (int k = c; k < P; ++k) h[r][k] -= f * h[c][k];
                g[r] -= f * g[c];
            }
        for (int r = P - 1; r >= 0; --r) {
            for (int k = r + 1; k < P; ++k) g[r] -= h[r][k] * g[k];
            g[r] /= h[r][r];
        }
        for (int j = 0; j < P; ++j) theta[j] -= g[j];
    }
    return loss_grad(d, theta, nullptr);
}

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Parameter*>)>;

}  // namespace

TEST_CASE("convergence: every optimizer reaches the logistic-regression optimum within 1%", "[optim]") {
    const Data d = make_data();
    const double best = optimum_loss(d);
    REQUIRE(best > 0);
    const std::vector<std::pair<std::string, Factory>> cases = {
        {"sgd", [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 1.0}); }},
        {"momentum", [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.2, .momentum = 0.9}); }},
        {"nesterov",
         [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.2, .momentum = 0.9, .nesterov = true}); }},
        {"adagrad", [](auto p) { return std::make_unique<Adagrad>(p, AdagradOptions{.lr = 0.5}); }},
        {"rmsprop", [](auto p) { return std::make_unique<Rmsprop>(p, RmspropOptions{.lr = 0.01}); }},
        {"rmsprop_centered",
         [](auto p) { return std::make_unique<Rmsprop>(p, RmspropOptions{.lr = 0.01, .momentum = 0.5, .centered = true}); }},
        {"adam", [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.05}); }},
        {"amsgrad", [](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.05, .amsgrad = true}); }},
        {"adamw", [](auto p) { return std::make_unique<AdamW>(p, AdamWOptions{.lr = 0.05, .weight_decay = 0}); }},
        {"radam", [](auto p) { return std::make_unique<RAdam>(p, RAdamOptions{.lr = 0.05}); }},
        {"diffgrad", [](auto p) { return std::make_unique<DiffGrad>(p, DiffGradOptions{.lr = 0.05}); }},
        {"adabelief", [](auto p) { return std::make_unique<AdaBelief>(p, AdaBeliefOptions{.lr = 0.05}); }},
    };
    std::string summary;
    for (const auto& [name, factory] : cases) {
        INFO(name);
        Parameter w("w", Shape{kDim}), b("b", Shape{1}, true);
        auto opt = factory({&w, &b});
        double theta[kDim + 1], grad[kDim + 1], loss = 0;
        for (int step = 0; step < 3000; ++step) {
            for (int j = 0; j < kDim; ++j) theta[j] = w.data()[j];
            theta[kDim] = b.data()[0];
            loss = loss_grad(d, theta, grad);
            for (int j = 0; j < kDim; ++j) w.grad_data()[j] = static_cast<float>(grad[j]);
            b.grad_data()[0] = static_cast<float>(grad[kDim]);
            opt->step();
        }
        INFO("loss " << loss << " optimum " << best);
        CHECK(loss <= best * 1.01);
        summary += " " + name + " " + std::to_string(loss / best);
    }
    WARN("final loss / optimum after 3000 full-batch steps:" << summary);
}

namespace {
// Steps until 0.5 sum h_i x_i^2 falls below 1e-6 of its start (h from 1 to 100: condition number 100).
int steps_to_converge(const Factory& factory) {
    constexpr int n = 8;
    Parameter x("x", Shape{n});
    double h[n];
    for (int i = 0; i < n; ++i) {
        h[i] = std::pow(100.0, i / double(n - 1));
        x.data()[i] = 1.0f;
    }
    auto f = [&] {
        double s = 0;
        for (int i = 0; i < n; ++i) s += 0.5 * h[i] * x.data()[i] * x.data()[i];
        return s;
    };
    const double f0 = f();
    auto opt = factory({&x});
    for (int step = 1; step <= 20000; ++step) {
        for (int i = 0; i < n; ++i) x.grad_data()[i] = static_cast<float>(h[i] * x.data()[i]);
        opt->step();
        if (f() < 1e-6 * f0) return step;
    }
    return 20001;
}
}  // namespace

TEST_CASE("convergence: momentum and Adam beat plain SGD on a badly conditioned quadratic", "[optim]") {
    // SGD at its best fixed rate 2 / (L + mu); heavy ball at the classical tuning for kappa = 100.
    const int sgd = steps_to_converge([](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 2.0 / 101}); });
    const int momentum = steps_to_converge([](auto p) {
        return std::make_unique<Sgd>(p, SgdOptions{.lr = 4.0 / (11.0 * 11.0), .momentum = (9.0 / 11) * (9.0 / 11)});
    });
    const int nesterov = steps_to_converge(
        [](auto p) { return std::make_unique<Sgd>(p, SgdOptions{.lr = 0.01, .momentum = 0.8, .nesterov = true}); });
    const int adam = steps_to_converge([](auto p) { return std::make_unique<Adam>(p, AdamOptions{.lr = 0.02}); });
    WARN("steps to 1e-6 of f0: sgd " << sgd << ", momentum " << momentum << ", nesterov " << nesterov << ", adam "
                                     << adam);
    CHECK(sgd <= 20000);
    CHECK(momentum < sgd / 2);
    CHECK(nesterov < sgd / 2);
    CHECK(adam < sgd);
}
