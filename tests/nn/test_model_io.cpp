#include "nn/model_io.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/init.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/pool.hpp"
#include "nn/layers/squeeze_excitation.hpp"
#include "nn/registry.hpp"
#include "nn/safetensors.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

using namespace mtag::nn;
using Catch::Matchers::Contains;

namespace {
std::shared_ptr<Sequential> make_net(std::int64_t classes = 5) {
    auto net = std::make_shared<Sequential>();
    net->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .padding = {1, 1}}));
    net->add(std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 4}));
    net->add(std::make_shared<ReLU>());
    net->add(std::make_shared<MaxPool2d>(Pool2dOptions{.kernel_size = {2, 2}}));
    auto body = std::make_shared<Sequential>();
    body->add(
        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 4, .out_channels = 4, .padding_same = true}));
    body->add(std::make_shared<SqueezeExcitation>(SqueezeExcitationOptions{.channels = 4, .hidden = 2}));
    net->add(std::make_shared<Residual>(body));
    net->add(std::make_shared<GlobalPool>(
        GlobalPoolOptions{GlobalPoolOptions::Mode::max, GlobalPoolOptions::Axes::all}));
    net->add(std::make_shared<Dropout>(DropoutOptions{.p = 0.5, .seed = 1}));
    net->add(std::make_shared<Linear>(LinearOptions{.in_features = 4, .out_features = classes}));
    return net;
}
}  // namespace

TEST_CASE("model_io: save/load rebuilds the architecture and gives bit-identical outputs") {
    auto net = make_net();
    init::initialize(*net, {.seed = 3});
    const Tensor x = test::random_tensor({3, 1, 8, 10}, 4);
    net->forward(x);  // a training step moves BN running statistics
    net->eval();
    const Tensor before = net->forward(x).clone();
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "model_io";
    save_model(*net, dir, {{"tags", {"rock", "jazz"}}});
    const LoadedModel loaded = load_model(dir);
    CHECK(loaded.card["metadata"]["tags"][1] == "jazz");
    CHECK(loaded.model->parameter_count() == net->parameter_count());
    const Tensor after = loaded.model->forward(x);
    REQUIRE(after.shape() == before.shape());
    CHECK(std::memcmp(after.data(), before.data(), before.size() * 4) == 0);
    auto names = loaded.model->buffers();
    CHECK(names[0]->name == "1.running_mean");
    CHECK(names[2]->name == "1.num_batches_tracked");
    CHECK(names[2]->value[0] == 1.0f);
    const auto st = read_safetensors(dir / "model.safetensors");
    CHECK(st.tensors.count("4.body.1.fc2.weight") == 1);
}

TEST_CASE("model_io: load rejects missing, unexpected and mis-shaped tensors with got/expected") {
    auto net = make_net();
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "model_io_bad";
    save_model(*net, dir);
    auto other = make_net(6);
    CHECK_THROWS_WITH(load_weights(*other, dir / "model.safetensors"),
                      Contains("'7.weight' has shape [5, 4], expected [6, 4]"));
    auto smaller = std::make_shared<Sequential>();
    smaller->add(
        std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .padding = {1, 1}}));
    CHECK_THROWS_WITH(load_weights(*smaller, dir / "model.safetensors"), Contains("unexpected tensor"));
    CHECK_NOTHROW(load_weights(*smaller, dir / "model.safetensors", true));
    auto bigger = make_net();
    bigger->add(std::make_shared<Linear>(LinearOptions{.in_features = 5, .out_features = 2}));
    CHECK_THROWS_WITH(load_weights(*bigger, dir / "model.safetensors"),
                      Contains("missing tensor '8.weight'"));
    CHECK_THROWS_WITH(build_module({{"type", "Conv9d"}}), Contains("unknown module type 'Conv9d'"));
    CHECK_THROWS_WITH(build_module({{"type", "Linear"}, {"in_features", 3}}),
                      Contains("missing key 'out_features'"));
}
