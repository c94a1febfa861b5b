// End-to-end sanity: a small conv net with BN, pooling and dropout-free head memorises one batch.
#include "nn/gradcheck.hpp"
#include "nn/init.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/pool.hpp"
#include "nn/loss.hpp"

#include <catch2/catch.hpp>

using namespace mtag::nn;

TEST_CASE("overfit: a small conv net drives the BCE loss of one batch below 1% of its start") {
    Sequential net;
    net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 8, .padding = {1, 1}}));
    net.add(std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 8}));
    net.add(std::make_shared<ReLU>(true));
    net.add(std::make_shared<MaxPool2d>(Pool2dOptions{.kernel_size = {2, 2}}));
    net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 8, .out_channels = 16, .padding = {1, 1}}));
    net.add(std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 16}));
    net.add(std::make_shared<ReLU>(true));
    net.add(std::make_shared<GlobalPool>(
        GlobalPoolOptions{GlobalPoolOptions::Mode::max, GlobalPoolOptions::Axes::all}));
    net.add(std::make_shared<Linear>(LinearOptions{.in_features = 16, .out_features = 5}));
    init::initialize(net, {.seed = 1});
    const Tensor x = test::random_tensor({8, 1, 12, 16}, 2);
    Tensor y = test::random_tensor({8, 5}, 3, 0.0f, 1.0f);
    for (float& v : y.span()) v = v > 0.6f ? 1.0f : 0.0f;
    BCEWithLogitsLoss loss;
    // Plain SGD with momentum 0.9 (PyTorch form), enough for this check without the training toolkit.
    std::vector<Tensor> velocity;
    for (Parameter* p : net.parameters()) velocity.emplace_back(p->shape());
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 400; ++step) {
        net.zero_grad();
        last = loss.forward(net.forward(x), y);
        if (step == 0) first = last;
        net.backward(loss.backward());
        std::size_t k = 0;
        for (Parameter* p : net.parameters()) {
            Tensor& v = velocity[k++];
            for (std::size_t i = 0; i < p->size(); ++i) {
                v[i] = 0.9f * v[i] + p->grad[i];
                p->value[i] -= 0.05f * v[i];
            }
        }
        if (last < 0.01 * first) break;
    }
    INFO("first " << first << " last " << last);
    CHECK(last < 0.01 * first);
}
