// A Chain's BatchNorm runs the activation after it inside its own forward (BatchNormBase::fuse_activation).
// The fused chain must give the same bits as the two layers called one after the other, forward and
// backward, in training and eval, and fall back to the separate layers where rows are not whole 16-value
// mask groups.
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/models/blocks.hpp"

#include "nn/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace mtag::nn;
using mtag::nn::test::random_tensor;

namespace {

std::shared_ptr<Activation> make(const std::string& kind) {
    if (kind == "relu") return std::make_shared<ReLU>(true);
    if (kind == "leaky_relu") return std::make_shared<LeakyReLU>(0.2f, true);
    if (kind == "elu") return std::make_shared<ELU>(1.0f, true);
    return std::make_shared<SELU>(true);
}

}  // namespace

TEST_CASE("fused BatchNorm + activation: the same bits as the two layers apart, forward and backward") {
    for (const std::string kind : {"relu", "leaky_relu", "elu", "selu"}) {
        // 16 x 21 = 336 values per channel row: fused; 5 x 7 = 35: not whole mask groups, the layers apart.
        for (const Shape shape : {Shape{3, 4, 16, 21}, Shape{2, 3, 5, 7}, Shape{2, 2, 64, 130}}) {
            for (const bool training : {true, false}) {
                INFO(kind << " " << shape.str() << (training ? " training" : " eval"));
                const Tensor x = random_tensor(shape, 5, -3.0f, 3.0f);
                const Tensor g = random_tensor(shape, 6, -1.0f, 1.0f);
                models::Chain chain;
                auto bn = std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = shape[1]});
                chain.add("bn", bn).add("act", make(kind));
                BatchNorm2d bn_apart(BatchNormOptions{.num_features = shape[1]});
                const std::shared_ptr<Activation> act_apart = make(kind);
                // Non-trivial affine parameters and running statistics, the same in both.
                for (std::int64_t c = 0; c < shape[1]; ++c) {
                    const auto i = static_cast<std::size_t>(c);
                    const float w = 0.5f + 0.25f * static_cast<float>(c), b = 0.1f * static_cast<float>(c) - 0.2f;
                    bn->weight()->value[i] = bn_apart.weight()->value[i] = w;
                    bn->bias()->value[i] = bn_apart.bias()->value[i] = b;
                    bn->running_mean()[i] = bn_apart.running_mean()[i] = 0.3f * static_cast<float>(c);
                    bn->running_var()[i] = bn_apart.running_var()[i] = 1.5f + static_cast<float>(c);
                }
                chain.train(training);
                bn_apart.train(training);
                act_apart->train(training);
                const Tensor y = chain.forward(x.clone()).clone();
                const Tensor y_apart = act_apart->forward(bn_apart.forward(x.clone())).clone();
                const bool whole_groups = (shape[2] * shape[3]) % 16 == 0;
                CHECK(bn->fused_activation_applied() == whole_groups);
                REQUIRE(y.shape() == y_apart.shape());
                for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == y_apart[i]);
                const Tensor gx = chain.backward(g.clone());
                const Tensor gx_apart = bn_apart.backward(act_apart->backward(g.clone()));
                for (std::size_t i = 0; i < gx.size(); ++i) REQUIRE(gx[i] == gx_apart[i]);
                for (std::int64_t c = 0; c < shape[1]; ++c) {
                    const auto i = static_cast<std::size_t>(c);
                    REQUIRE(bn->weight()->grad[i] == bn_apart.weight()->grad[i]);
                    REQUIRE(bn->bias()->grad[i] == bn_apart.bias()->grad[i]);
                    REQUIRE(bn->running_mean()[i] == bn_apart.running_mean()[i]);
                }
            }
        }
    }
}

TEST_CASE("fused BatchNorm + activation: a Sigmoid (not in place) after BN is not fused") {
    models::Chain chain;
    auto bn = std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 2});
    chain.add("bn", bn).add("act", std::make_shared<Sigmoid>());
    const Tensor y = chain.forward(random_tensor({2, 2, 4, 8}, 7));
    CHECK_FALSE(bn->fused_activation_applied());
    for (const float v : y.span()) REQUIRE((v > 0.0f && v < 1.0f));
}
