#include "nn/module.hpp"

#include <catch2/catch.hpp>

#include <memory>

namespace {

using namespace mtag::nn;

// A minimal layer: y = w * x, with a BN-like buffer, to exercise naming and mode propagation.
class Scale : public Module {
  public:
    Scale() : m_weight(register_parameter("weight", {1})), m_bias(register_parameter("bias", {1}, true)) {
        register_buffer("running_mean", Tensor({1}));
        m_weight.value[0] = 2.0f;
    }
    Tensor forward(const Tensor& x) override {
        m_input = x;
        Tensor y = x.clone();
        for (float& v : y.span()) v *= m_weight.value[0];
        return y;
    }
    Tensor backward(const Tensor& g) override {
        if (m_weight.requires_grad)
            for (std::size_t i = 0; i < g.size(); ++i) m_weight.grad[0] += g[i] * m_input[i];
        Tensor gi = g.clone();
        for (float& v : gi.span()) v *= m_weight.value[0];
        return gi;
    }
    std::string type() const override { return "Scale"; }

  private:
    Parameter& m_weight;
    Parameter& m_bias;
    Tensor m_input;
};

class Pair : public Module {
  public:
    Pair() {
        a = register_module("0", std::make_shared<Scale>());
        b = register_module("1", std::make_shared<Scale>());
    }
    Tensor forward(const Tensor& x) override { return b->forward(a->forward(x)); }
    Tensor backward(const Tensor& g) override { return a->backward(b->backward(g)); }
    std::string type() const override { return "Pair"; }
    std::shared_ptr<Scale> a, b;
};

class Net : public Module {
  public:
    Net() { features = register_module("features", std::make_shared<Pair>()); }
    Tensor forward(const Tensor& x) override { return features->forward(x); }
    Tensor backward(const Tensor& g) override { return features->backward(g); }
    std::string type() const override { return "Net"; }
    std::shared_ptr<Pair> features;
};

}  // namespace

TEST_CASE("module: hierarchical names, buffers, train/eval and freeze reach every child") {
    Net net;
    auto params = net.parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0]->name == "features.0.weight");
    CHECK(params[1]->name == "features.0.bias");
    CHECK(params[1]->is_bias_or_norm);
    CHECK(params[3]->name == "features.1.bias");
    auto buffers = net.buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[1]->name == "features.1.running_mean");
    CHECK(net.parameter_count() == 4);

    CHECK(net.features->a->is_training());
    net.eval();
    CHECK_FALSE(net.features->b->is_training());
    net.train();
    CHECK(net.features->b->is_training());

    net.features->a->freeze();
    CHECK_FALSE(net.features->a->is_training());  // frozen BN stays in eval while the parent trains
    CHECK_FALSE(params[0]->requires_grad);
    CHECK(params[2]->requires_grad);

    Tensor x = Tensor::full({3}, 1.0f);
    Tensor y = net.forward(x);
    CHECK(y[0] == 4.0f);
    net.backward(Tensor::full({3}, 1.0f));
    CHECK(params[0]->grad[0] == 0.0f);  // frozen: no gradient
    CHECK(params[2]->grad[0] == 6.0f);  // 3 * (x * w0) = 3 * 2
    net.backward(Tensor::full({3}, 1.0f));
    CHECK(params[2]->grad[0] == 12.0f);  // accumulates
    net.zero_grad();
    CHECK(params[2]->grad[0] == 0.0f);
}
