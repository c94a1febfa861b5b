// nn::InferenceMode: the same outputs as an eval-mode forward, bit for bit, with nothing kept for backward.
#include "nn/inference_mode.hpp"

#include "dsp/error.hpp"
#include "nn/gradcheck.hpp"
#include "nn/layers/conv.hpp"
#include "nn/memory_stats.hpp"
#include "nn/models/zoo.hpp"
#include "nn/storage_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace mtag::nn;
using namespace mtag::nn::models;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Each preset at a size that runs in well under a second (the shapes test in test_models.cpp runs them full).
nlohmann::json small_spec(const std::string& name) {
    nlohmann::json spec{{"preset", name}, {"seed", 5}};
    if (name == "fcn4") spec["channels"] = {16, 32, 32, 64};
    if (name == "sample_cnn_se") spec["se_ratio"] = 1;
    return spec;
}

}  // namespace

TEST_CASE("inference mode: every preset gives eval mode's outputs bit for bit and keeps nothing",
          "[inference_mode]") {
    for (const std::string& name : preset_names()) {
        INFO(name);
        auto model = build_model(small_spec(name), 5);
        model->train();
        model->forward(test::random_tensor(model->input_shape(3), 1, -1.0f, 1.0f));  // move the BN statistics
        model->eval();
        model->set_input_grad(false);
        const Tensor x = test::random_tensor(model->input_shape(2), 2, -1.0f, 1.0f);
        const Tensor expected = model->forward(x).clone();
        const Tensor expected_embedding = model->embed(x).clone();

        // A twin that has only ever run in inference mode: what it holds after a batch is its own state.
        auto twin = build_model(small_spec(name), 5);
        auto src = model->parameters(), dst = twin->parameters();
        for (std::size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value;
        auto src_b = model->buffers(), dst_b = twin->buffers();
        for (std::size_t i = 0; i < src_b.size(); ++i) dst_b[i]->value.copy_from(src_b[i]->value);
        twin->eval();
        twin->set_input_grad(false);
        release_cached_storage();
        const std::size_t before = tensor_bytes_live();
        {
            const InferenceMode inference;
            for (int pass = 0; pass < 2; ++pass) {  // the second pass sees the first one's state
                const Tensor y = twin->forward(x);
                CHECK(same_bits(y, expected));
                CHECK(same_bits(twin->embed(x), expected_embedding));
            }
        }
        // Per-channel statistics and small state may stay; no activation-sized tensor does.
        CHECK(tensor_bytes_live() - before < x.size() * sizeof(float));
        // Eval mode outside the guard keeps its activations again, and backward works after it.
        CHECK(same_bits(twin->forward(x), expected));
        CHECK(tensor_bytes_live() - before > x.size() * sizeof(float));
    }
}

TEST_CASE("inference mode: backward after an inference forward is an error, not garbage", "[inference_mode]") {
    Conv2d conv({.in_channels = 2, .out_channels = 3});
    conv.eval();
    const Tensor x = test::random_tensor({1, 2, 5, 5}, 3, -1.0f, 1.0f);
    Tensor y;
    {
        const InferenceMode inference;
        CHECK(inference_mode());
        {
            const InferenceMode off(false);  // guards nest
            CHECK_FALSE(inference_mode());
        }
        CHECK(inference_mode());
        y = conv.forward(x);
    }
    CHECK_FALSE(inference_mode());
    CHECK_THROWS_WITH(conv.backward(Tensor::zeros(y.shape())), Catch::Matchers::Contains("inference mode"));
    conv.forward(x);
    CHECK_NOTHROW(conv.backward(Tensor::zeros(y.shape())));
}
