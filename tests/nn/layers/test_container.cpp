#include "nn/layers/container.hpp"

#include "nn/gradcheck.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/flatten.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/pool.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;
using mtag::nn::test::gradcheck;
using mtag::nn::test::random_tensor;

namespace {
void randomize(Module& m, std::uint64_t seed) {
    for (Parameter* p : m.parameters()) p->value.copy_from(random_tensor(p->shape(), seed++, -0.5f, 0.5f));
}
}  // namespace

TEST_CASE("container: Sequential names children like torch and chains gradients") {
    Sequential net;
    net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 3, .padding = {1, 1}}));
    net.add(std::make_shared<Tanh>());
    net.add(std::make_shared<AvgPool2d>(Pool2dOptions{.kernel_size = {2, 2}}));
    net.add(std::make_shared<Flatten>());
    net.add(std::make_shared<Linear>(LinearOptions{.in_features = 3 * 3 * 4, .out_features = 2}));
    randomize(net, 1);
    auto params = net.parameters();
    REQUIRE(params.size() == 4);
    CHECK(params[0]->name == "0.weight");
    CHECK(params[3]->name == "4.bias");
    const auto e = gradcheck(net, random_tensor({2, 2, 6, 8}, 2));
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);
    CHECK(net.config()["layers"][0]["type"] == "Conv2d");
}

TEST_CASE("container: Residual with identity and projection shortcuts, Branch concat and sum") {
    auto body = std::make_shared<Sequential>();
    body->add(
        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 2, .padding_same = true}));
    body->add(std::make_shared<Tanh>());
    Residual identity(body);
    randomize(identity, 3);
    auto e = gradcheck(identity, random_tensor({2, 2, 5, 6}, 4));
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);

    auto body2 =
        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 3, .padding = {1, 1}});
    auto proj =
        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = {1, 1}});
    Residual projected(body2, proj);
    randomize(projected, 5);
    CHECK(projected.parameters()[2]->name == "shortcut.weight");
    e = gradcheck(projected, random_tensor({2, 2, 5, 6}, 6));
    CHECK(e.input < 2e-3);
    CHECK(e.param < 2e-3);

    for (auto merge : {Branch::Merge::concat, Branch::Merge::sum}) {
        Branch br({std::make_shared<Conv1d>(
                       Conv1dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = 3, .padding = 1}),
                   std::make_shared<Conv1d>(
                       Conv1dOptions{.in_channels = 2, .out_channels = 3, .kernel_size = 5, .padding = 2})},
                  merge);
        randomize(br, 7);
        const Tensor x = random_tensor({2, 2, 9}, 8);
        CHECK(br.forward(x).dim(1) == (merge == Branch::Merge::concat ? 6 : 3));
        e = gradcheck(br, x);
        CHECK(e.input < 2e-3);
        CHECK(e.param < 2e-3);
    }
}
