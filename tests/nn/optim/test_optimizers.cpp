// nn/optim/* against torch.optim trajectories (and paper-algorithm references for diffGrad and
// AdaBelief) from scripts/make_train_fixtures.py; state round trip; option validation.
#include "nn/optim/adabelief.hpp"
#include "nn/optim/adagrad.hpp"
#include "nn/optim/adam.hpp"
#include "nn/optim/diffgrad.hpp"
#include "nn/optim/radam.hpp"
#include "nn/optim/rmsprop.hpp"
#include "nn/optim/sgd.hpp"

#include "dsp/error.hpp"
#include "../train_fixture.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace mtag;
using namespace mtag::nn;

namespace {

// The fixture's problem: weight [3, 4] and bias [4], g = a (p - c) + 0.1 p^3 in double, rounded to float.
struct Problem {
    Parameter weight{"weight", Shape{3, 4}};
    Parameter bias{"bias", Shape{4}, true};
    std::vector<double> aw, cw, ab, cb;

    explicit Problem(const nlohmann::json& fx) {
        const auto w0 = fx["weight0"].get<std::vector<float>>();
        const auto b0 = fx["bias0"].get<std::vector<float>>();
        std::copy(w0.begin(), w0.end(), weight.data());
        std::copy(b0.begin(), b0.end(), bias.data());
        aw = fx["a_weight"].get<std::vector<double>>();
        cw = fx["c_weight"].get<std::vector<double>>();
        ab = fx["a_bias"].get<std::vector<double>>();
        cb = fx["c_bias"].get<std::vector<double>>();
    }
    static void grad(Parameter& p, const std::vector<double>& a, const std::vector<double>& c) {
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double v = p.data()[i];
            p.grad_data()[i] = static_cast<float>(a[i] * (v - c[i]) + 0.1 * v * v * v);
        }
    }
    void compute_grads() {
        grad(weight, aw, cw);
        grad(bias, ab, cb);
    }
    std::vector<ParamGroup> groups(std::optional<double> bias_lr = {}) {
        return {ParamGroup{{&weight}, {}, {}}, ParamGroup{{&bias}, bias_lr, {}}};
    }
};

// Same options as OPTIMIZER_CASES in the script.
std::unique_ptr<Optimizer> make(const std::string& name, Problem& pr) {
    using M = WeightDecayMode;
    if (name == "sgd") return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.1});
    if (name == "sgd_weight_decay") return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.1, .weight_decay = 0.05});
    if (name == "sgd_l1")
        return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.1, .weight_decay = 0.05, .decay_mode = M::l1});
    if (name == "sgd_groups") return std::make_unique<Sgd>(pr.groups(0.01), SgdOptions{.lr = 0.1, .momentum = 0.9});
    if (name == "sgd_clip") return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.1, .momentum = 0.9});
    if (name == "momentum") return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.05, .momentum = 0.9});
    if (name == "momentum_dampening")
        return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.3});
    if (name == "nesterov")
        return std::make_unique<Sgd>(pr.groups(), SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
    if (name == "nesterov_weight_decay")
        return std::make_unique<Sgd>(pr.groups(),
                                     SgdOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01});
    if (name == "adagrad") return std::make_unique<Adagrad>(pr.groups(), AdagradOptions{.lr = 0.1});
    if (name == "adagrad_options")
        return std::make_unique<Adagrad>(
            pr.groups(),
            AdagradOptions{.lr = 0.1, .lr_decay = 0.01, .initial_accumulator_value = 0.1, .weight_decay = 0.01});
    if (name == "rmsprop") return std::make_unique<Rmsprop>(pr.groups(), RmspropOptions{.lr = 0.01});
    if (name == "rmsprop_momentum")
        return std::make_unique<Rmsprop>(pr.groups(), RmspropOptions{.lr = 0.01, .momentum = 0.8});
    if (name == "rmsprop_centered")
        return std::make_unique<Rmsprop>(
            pr.groups(), RmspropOptions{.lr = 0.01, .momentum = 0.5, .centered = true, .weight_decay = 0.01});
    if (name == "adam") return std::make_unique<Adam>(pr.groups(), AdamOptions{.lr = 0.05});
    if (name == "adam_weight_decay")
        return std::make_unique<Adam>(pr.groups(), AdamOptions{.lr = 0.05, .weight_decay = 0.01});
    if (name == "adam_decay_bias")
        return std::make_unique<Adam>(pr.groups(),
                                      AdamOptions{.lr = 0.05, .weight_decay = 0.01, .decay_bias_and_norm = true});
    if (name == "amsgrad")
        return std::make_unique<Adam>(pr.groups(), AdamOptions{.lr = 0.05, .betas = {0.8, 0.9}, .amsgrad = true});
    if (name == "adamw") return std::make_unique<AdamW>(pr.groups(), AdamWOptions{.lr = 0.05, .weight_decay = 0.1});
    if (name == "adamw_amsgrad")
        return std::make_unique<AdamW>(pr.groups(), AdamWOptions{.lr = 0.05, .amsgrad = true, .weight_decay = 0.1});
    if (name == "radam") return std::make_unique<RAdam>(pr.groups(), RAdamOptions{.lr = 0.05});
    if (name == "radam_weight_decay")
        return std::make_unique<RAdam>(pr.groups(), RAdamOptions{.lr = 0.05, .betas = {0.9, 0.99}, .weight_decay = 0.01});
    if (name == "diffgrad") return std::make_unique<DiffGrad>(pr.groups(), DiffGradOptions{.lr = 0.05});
    if (name == "adabelief") return std::make_unique<AdaBelief>(pr.groups(), AdaBeliefOptions{.lr = 0.05});
    if (name == "adabelief_eps")
        return std::make_unique<AdaBelief>(pr.groups(),
                                           AdaBeliefOptions{.lr = 0.05, .betas = {0.8, 0.95}, .eps = 1e-6});
    return nullptr;
}

}  // namespace

TEST_CASE("optimizers: 10-step trajectories equal torch (1e-5 relative)", "[optim]") {
    const auto fx = test::load_train_fixture("optimizers.json");
    const int steps = fx["steps"];
    double worst = 0;
    std::string worst_case;
    for (const auto& [name, traj] : fx["cases"].items()) {
        INFO("case " << name);
        Problem pr(fx);
        auto opt = make(name, pr);
        REQUIRE(opt);
        for (int t = 0; t < steps; ++t) {
            INFO("step " << t + 1);
            opt->zero_grad();
            pr.compute_grads();
            if (name == "sgd_clip") clip_grad_norm({&pr.weight, &pr.bias}, 0.5);
            opt->step();
            for (const auto* key : {"weight", "bias"}) {
                const Parameter& p = std::string(key) == "weight" ? pr.weight : pr.bias;
                const auto want = traj[t][key].get<std::vector<float>>();
                for (std::size_t i = 0; i < want.size(); ++i) {
                    // Relative error; elements crossing zero (|want| < 0.01) are held to 1e-7 absolute,
                    // since cancellation leaves them only absolute float accuracy.
                    const double err = std::fabs(p.data()[i] - want[i]) / std::max(std::fabs(double(want[i])), 1e-2);
                    if (err > worst) worst = err, worst_case = name;
                    INFO(key << "[" << i << "] got " << p.data()[i] << " want " << want[i]);
                    CHECK(err <= 1e-5);
                }
            }
        }
    }
    WARN("worst relative deviation from torch: " << worst << " (" << worst_case << ")");
}

TEST_CASE("optimizers: frozen parameters are skipped, biases not decayed by default", "[optim]") {
    const auto fx = test::load_train_fixture("optimizers.json");
    Problem pr(fx);
    pr.bias.requires_grad = false;
    const std::vector<float> bias0(pr.bias.data(), pr.bias.data() + 4);
    Adam adam(pr.groups(), AdamOptions{.lr = 0.1});
    for (int t = 0; t < 3; ++t) {
        pr.compute_grads();
        adam.step();
    }
    CHECK(std::equal(bias0.begin(), bias0.end(), pr.bias.data()));
    CHECK(adam.state().scalars["params"][1]["step"] == 0);
    CHECK(adam.state().scalars["params"][0]["step"] == 3);

    // Zero gradient + decoupled decay: only the weight shrinks.
    Problem q(fx);
    AdamW adamw(q.groups(), AdamWOptions{.lr = 0.1, .weight_decay = 0.5});
    const float w0 = q.weight.data()[0], b0 = q.bias.data()[0];
    adamw.zero_grad();
    adamw.step();
    CHECK(q.weight.data()[0] == Approx(w0 * (1 - 0.05)));
    CHECK(q.bias.data()[0] == b0);
}

TEST_CASE("optimizers: state save/restore continues bit-identically, set_lr keeps group ratios", "[optim]") {
    const auto fx = test::load_train_fixture("optimizers.json");
    for (const std::string name : {"rmsprop_centered", "amsgrad", "nesterov", "diffgrad", "adagrad_options"}) {
        INFO(name);
        Problem a(fx), b(fx);
        auto oa = make(name, a);
        for (int t = 0; t < 4; ++t) {
            a.compute_grads();
            oa->step();
        }
        const auto saved = oa->state();
        b.weight.value.copy_from(a.weight.value);
        b.bias.value.copy_from(a.bias.value);
        auto ob = make(name, b);
        ob->load_state(saved);
        for (int t = 0; t < 6; ++t) {
            a.compute_grads();
            b.compute_grads();
            oa->step();
            ob->step();
        }
        CHECK(std::equal(a.weight.data(), a.weight.data() + 12, b.weight.data()));
        CHECK(std::equal(a.bias.data(), a.bias.data() + 4, b.bias.data()));
    }
    Problem pr(fx);
    Sgd sgd(pr.groups(0.01), SgdOptions{.lr = 0.1});
    sgd.set_lr(0.05);
    CHECK(sgd.group_lr(0) == Approx(0.05));
    CHECK(sgd.group_lr(1) == Approx(0.005));
    // A state from another optimizer or with a wrong shape is rejected with got/expected.
    Adam adam(pr.groups(), AdamOptions{});
    CHECK_THROWS_AS(adam.load_state(sgd.state()), Error);
    auto st = adam.state();
    st.tensors[0].second = Tensor(Shape{2, 2});
    CHECK_THROWS_WITH(adam.load_state(st), Catch::Contains("expected [3, 4]"));
}

TEST_CASE("optimizers: options are validated in the constructor", "[optim]") {
    Parameter p("p", Shape{2});
    CHECK_THROWS_AS(Sgd(std::vector<Parameter*>{&p}, SgdOptions{.lr = -1}), Error);
    CHECK_THROWS_AS(Sgd(std::vector<Parameter*>{&p}, SgdOptions{.nesterov = true}), Error);
    CHECK_THROWS_AS(Adam(std::vector<Parameter*>{&p}, AdamOptions{.betas = {0.9, 1.0}}), Error);
    CHECK_THROWS_AS(Rmsprop(std::vector<Parameter*>{&p}, RmspropOptions{.alpha = 1.5}), Error);
    CHECK_THROWS_AS(Adam(std::vector<Parameter*>{&p, &p}, AdamOptions{}), Error);
    Parameter q("p", Shape{3});
    CHECK_THROWS_WITH(Adam(std::vector<Parameter*>{&p, &q}, AdamOptions{}), Catch::Contains("share the name"));
}

TEST_CASE("optimizers: clip_grad_norm scales to max_norm and returns the norm", "[optim]") {
    Parameter a("a", Shape{2}), b("b", Shape{1});
    a.grad_data()[0] = 3;
    a.grad_data()[1] = 0;
    b.grad_data()[0] = 4;
    CHECK(clip_grad_norm({&a, &b}, 1.0) == Approx(5.0));
    CHECK(a.grad_data()[0] == Approx(0.6f));
    CHECK(b.grad_data()[0] == Approx(0.8f));
    CHECK(clip_grad_norm({&a, &b}, 10.0) == Approx(1.0).epsilon(1e-5));
    CHECK(b.grad_data()[0] == Approx(0.8f));
}
