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

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

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

TEST_CASE("model_io: partial loads for fine-tuning report what was skipped") {
    auto net = make_net(5);
    init::initialize(*net, {.seed = 1});
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "model_io_partial";
    save_model(*net, dir);
    auto other = make_net(7);  // a new head for another tag vocabulary
    const float before = other->parameters().back()->value[0];
    const LoadReport r =
        load_weights(*other, dir / "model.safetensors", LoadOptions{.skip_mismatched = true});
    REQUIRE(r.mismatched.size() == 2);
    CHECK_THAT(r.mismatched[0], Contains("'7.weight' has shape [5, 4], expected [7, 4]"));
    CHECK(other->parameters().back()->value[0] == before);
    CHECK(other->parameters()[0]->value[0] == net->parameters()[0]->value[0]);
    CHECK(r.missing.empty());
    CHECK(r.unexpected.empty());
}

TEST_CASE("model_io: NaN and infinite weights are refused at load, naming the tensor") {
    auto net = make_net();
    init::initialize(*net, {.seed = 2});
    net->parameters()[2]->value[1] = std::numeric_limits<float>::quiet_NaN();
    net->parameters()[2]->value[3] = std::numeric_limits<float>::infinity();
    const std::string name = net->parameters()[2]->name;
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "model_io_nan";
    save_model(*net, dir);
    CHECK_THROWS_WITH(load_model(dir), Contains("tensor '" + name + "' has 2 NaN or infinite values (first at flat index 1)"));
    auto other = make_net();
    CHECK_THROWS_WITH(load_weights(*other, dir / "model.safetensors"), Contains("'" + name + "'"));
    // Loading them anyway is explicit.
    const LoadReport r = load_weights(*other, dir / "model.safetensors", LoadOptions{.allow_non_finite = true});
    CHECK(std::isnan(other->parameters()[2]->value[1]));
    CHECK(r.loaded.size() == other->parameters().size() + other->buffers().size());
    const NonFinite bad = count_non_finite(other->parameters()[2]->value);
    CHECK(bad.count == 2);
    CHECK(bad.first == 1);
}

TEST_CASE("model_io: a forged architecture cannot allocate beyond what its weights file could hold") {
    const auto dir = std::filesystem::path(MTAG_TEST_TMP) / "model_io_forged";
    auto net = make_net();
    save_model(*net, dir);
    // 10^5 x 10^5 floats (40 GB) for a weights file of a few KB: an error naming the card, nothing allocated.
    const nlohmann::json forged = {{"format", "mtag-model"},
                                   {"architecture", {{"type", "Linear"}, {"in_features", 100000}, {"out_features", 100000}}}};
    CHECK_THROWS_WITH(build_architecture(forged, 4096, "model card 'x'"),
                      Contains("model card 'x' architecture: would allocate more than 256 MiB"));
    {
        std::ofstream out(dir / "model.json");
        out << forged.dump();
    }
    CHECK_THROWS_WITH(load_model(dir), Contains("would allocate more than"));
    // The budget ends with the build: an ordinary allocation afterwards is unaffected.
    CHECK(Tensor(Shape{1024, 1024}).size() == 1024 * 1024);
    // A real architecture fits its own file's budget.
    CHECK_NOTHROW(build_architecture({{"format", "mtag-model"}, {"architecture", net->config()}}, 4096, "card"));
    // model.json itself is bounded in size and must be a regular file.
    CHECK_THROWS_WITH(read_model_json(dir), Contains("is not a regular file"));
    CHECK_THROWS_WITH(read_model_json(dir / "absent.json"), Contains("cannot open"));
}
