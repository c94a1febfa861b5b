#pragma once
// Checks a recurrent layer rebuilt from tests/fixtures/nn/rnn_reference.json (scripts/make_rnn_fixture.py)
// against torch.nn.GRU / torch.nn.LSTM: forward, input gradient and every weight gradient.
#include "nn/gradcheck.hpp"
#include "nn/registry.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>

namespace mtag::nn::test {

// Every parameter of `m` uniform in [-bound, bound], one seed per parameter from `seed` on.
inline void randomize(Module& m, std::uint64_t seed, float bound) {
    for (Parameter* p : m.parameters()) p->value.copy_from(random_tensor(p->shape(), seed++, -bound, bound));
}

inline nlohmann::json load_rnn_fixture() {
    std::ifstream in(std::string(MTAG_SOURCE_DIR) + "/tests/fixtures/nn/rnn_reference.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

inline void require_close(const Tensor& got, const nlohmann::json& expected, double tol,
                          const std::string& what) {
    INFO(what);
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double e = expected[i].get<double>();
        INFO("element " << i << " got " << got[i] << " expected " << e);
        REQUIRE(std::abs(got[i] - e) <= tol);
    }
}

// Runs the fixture case `name`; returns the number of tensors compared.
inline int check_rnn_case(const nlohmann::json& fixture, const std::string& name) {
    INFO("case " << name);
    const nlohmann::json& c = fixture["cases"][name];
    const double tol = fixture["tolerance_abs"].get<double>();
    auto layer = build_module(c["architecture"]);
    for (Parameter* p : layer->parameters())
        p->value.copy_from(
            Tensor::from(p->shape(), c["state"].at(p->name)["values"].get<std::vector<float>>()));
    const auto dims = c["input_shape"].get<std::vector<std::int64_t>>();
    const Tensor x = Tensor::from({dims[0], dims[1], dims[2]}, c["input"].get<std::vector<float>>());
    const Tensor y = layer->forward(x);
    require_close(y, c["output"], tol, "output");
    layer->zero_grad();
    const Tensor gy = Tensor::from(y.shape(), c["grad_output"].get<std::vector<float>>());
    require_close(layer->backward(gy), c["grad_input"], tol, "input gradient");
    int compared = 2;
    for (Parameter* p : layer->parameters()) {
        require_close(p->grad, c["grads"].at(p->name), tol, "gradient of " + p->name);
        ++compared;
    }
    return compared;
}

}  // namespace mtag::nn::test
