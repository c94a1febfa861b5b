// Small fixed networks against PyTorch 1.13: forward (eval and train), loss, input and parameter
// gradients and BatchNorm running statistics. Fixture: scripts/make_nn_fixture.py.
#include "nn/loss.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace mtag::nn;
using json = nlohmann::json;

namespace {

json load_fixture() {
    std::ifstream in(std::string(MTAG_SOURCE_DIR) + "/tests/fixtures/nn/torch_reference.json");
    REQUIRE(in.good());
    return json::parse(in);
}

Shape to_shape(const json& dims) {
    Shape s;
    for (const auto& d : dims) s = s.appended(d.get<std::int64_t>());
    return s;
}

void check_close(const Tensor& got, const json& expected, double abs_tol, double rel_tol,
                 const std::string& what) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double e = expected[i].get<double>();
        INFO("element " << i << " got " << got[i] << " expected " << e);
        REQUIRE(std::abs(got[i] - e) <= abs_tol + rel_tol * std::abs(e));
    }
}

}  // namespace

TEST_CASE("torch_fixture: small networks match PyTorch forward, loss, gradients and running stats") {
    const json fixture = load_fixture();
    const json& tol = fixture["tolerances"];
    for (const auto& [name, net_json] : fixture["networks"].items()) {
        INFO("network " << name);
        auto net = build_module(net_json["architecture"]);
        const json& state = net_json["state"];
        for (Parameter* p : net->parameters())
            p->value.copy_from(
                Tensor::from(p->shape(), state.at(p->name)["values"].get<std::vector<float>>()));
        for (Buffer* b : net->buffers())
            b->value.copy_from(
                Tensor::from(b->value.shape(), state.at(b->name)["values"].get<std::vector<float>>()));
        const Tensor x =
            Tensor::from(to_shape(net_json["input_shape"]), net_json["input"].get<std::vector<float>>());

        net->eval();
        check_close(net->forward(x), net_json["output_eval"], tol["output_abs"], tol["output_rel"],
                    "eval output");

        net->train();
        net->zero_grad();
        const Tensor y = net->forward(x);
        check_close(y, net_json["output_train"], tol["output_abs"], tol["output_rel"], "train output");
        double loss_value;
        Tensor grad_y;
        if (net_json["targets"].contains("classes")) {
            CrossEntropyLoss loss({.label_smoothing = 0.1});
            loss_value = loss.forward(y, net_json["targets"]["classes"].get<std::vector<std::int64_t>>());
            grad_y = loss.backward();
        } else {
            BCEWithLogitsLoss loss(
                {.pos_weight = net_json["targets"]["pos_weight"].get<std::vector<float>>()});
            loss_value = loss.forward(
                y, Tensor::from(y.shape(), net_json["targets"]["multi_hot"].get<std::vector<float>>()));
            grad_y = loss.backward();
        }
        CHECK(loss_value == Approx(net_json["loss"].get<double>()).epsilon(tol["loss_rel"].get<double>()));
        const Tensor gx = net->backward(grad_y);
        check_close(gx, net_json["grad_input"], tol["grad_abs"], tol["grad_rel"], "input gradient");
        for (Parameter* p : net->parameters())
            check_close(p->grad, net_json["grads"][p->name], tol["grad_abs"], tol["grad_rel"],
                        "gradient of " + p->name);
        for (Buffer* b : net->buffers())
            if (net_json["state_after_train"].contains(b->name))
                check_close(b->value, net_json["state_after_train"][b->name], tol["output_abs"],
                            tol["output_rel"], "running statistic " + b->name);
    }
}
