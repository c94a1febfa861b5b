// Tests nn/model_gradcheck: a whole model passes, and a model whose one layer has a deliberately broken backward
// fails naming that layer (the test-only sabotage lives here, not in the product).
#include "nn/model_gradcheck.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/pool.hpp"
#include "nn/models/zoo.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace mtag::nn;

namespace {

// A Linear whose weight gradient is off by `factor` (a typical backward bug: a wrong scale or a missed term).
class BrokenLinear : public Linear {
  public:
    BrokenLinear(const LinearOptions& o, float factor) : Linear(o), m_factor(factor) {}
    Tensor backward(const Tensor& grad_output) override {
        const Tensor before = weight().grad.clone();
        Tensor grad_input = Linear::backward(grad_output);
        for (std::size_t i = 0; i < weight().size(); ++i)
            weight().grad_data()[i] = before.data()[i] + m_factor * (weight().grad_data()[i] - before.data()[i]);
        return grad_input;
    }

  private:
    float m_factor;
};

// A Conv2d whose weight gradient is flipped in both kernel axes: cross-correlation taken for convolution, the
// classic convolution backward bug (right values, wrong places; its norm is unchanged).
class FlippedGradConv2d : public Conv2d {
  public:
    using Conv2d::Conv2d;
    Tensor backward(const Tensor& grad_output) override {
        const Tensor before = weight().grad.clone();
        Tensor grad_input = Conv2d::backward(grad_output);
        const Tensor after = weight().grad.clone();
        const Shape& s = weight().value.shape();  // (C_out, C_in, kH, kW)
        const std::int64_t kh = s[2], kw = s[3], planes = s[0] * s[1];
        for (std::int64_t p = 0; p < planes; ++p)
            for (std::int64_t i = 0; i < kh; ++i)
                for (std::int64_t j = 0; j < kw; ++j) {
                    const auto to = static_cast<std::size_t>((p * kh + i) * kw + j);
                    const auto from = static_cast<std::size_t>((p * kh + kh - 1 - i) * kw + kw - 1 - j);
                    weight().grad_data()[to] = before[to] + (after[from] - before[from]);
                }
        return grad_input;
    }
};

// A BatchNorm2d whose input gradient is scaled by 1/2, as when a term of the batch-statistics chain rule is
// dropped: its own parameters' gradients stay right, so the check must blame the layers before it.
class HalfInputGradBatchNorm2d : public BatchNorm2d {
  public:
    using BatchNorm2d::BatchNorm2d;
    Tensor backward(const Tensor& grad_output) override {
        Tensor grad_input = BatchNorm2d::backward(grad_output);
        for (std::size_t i = 0; i < grad_input.size(); ++i) grad_input[i] *= 0.5f;
        return grad_input;
    }
};

// conv -> bn -> relu -> max-pool -> conv -> bn -> relu -> global average -> linear, on (N, 1, 8, 8) inputs.
template <class Conv, class Norm>
std::shared_ptr<Sequential> small_cnn() {
    auto m = std::make_shared<Sequential>();
    m->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 1, .out_channels = 4, .padding = {1, 1}}));
    m->add(std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = 4}));
    m->add(std::make_shared<ReLU>());
    m->add(std::make_shared<MaxPool2d>(Pool2dOptions{.kernel_size = {2, 2}}));
    m->add(std::make_shared<Conv>(Conv2dOptions{.in_channels = 4, .out_channels = 4, .padding = {1, 1}}));
    m->add(std::make_shared<Norm>(BatchNormOptions{.num_features = 4}));
    m->add(std::make_shared<ReLU>());
    m->add(std::make_shared<GlobalPool>());
    m->add(std::make_shared<Linear>(LinearOptions{.in_features = 4, .out_features = 3}));
    return m;
}

// A tensor of N(0, stddev^2) draws from a seeded engine (the inputs of these checks).
Tensor normal_tensor(const Shape& shape, unsigned seed, float stddev = 1.0f) {
    Tensor x(shape);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, stddev);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = normal(rng);
    return x;
}

Tensor random_input(std::int64_t n, std::int64_t d) { return normal_tensor({n, d}, 3); }

void randomise(Module& m) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    for (Parameter* p : m.parameters())
        for (std::size_t i = 0; i < p->size(); ++i) p->data()[i] = normal(rng);
}

}  // namespace

TEST_CASE("gradcheck: a correct MLP passes, a broken layer's weight gradient fails naming the layer", "[gradcheck]") {
    Sequential good;
    good.add(std::make_shared<Linear>(LinearOptions{.in_features = 6, .out_features = 8}));
    good.add(std::make_shared<Tanh>());
    good.add(std::make_shared<Linear>(LinearOptions{.in_features = 8, .out_features = 3}));
    randomise(good);
    const Tensor x = random_input(4, 6);
    const GradcheckResult ok = gradcheck(good, x);
    CHECK(ok.passed);
    REQUIRE(ok.layers.size() == 2);
    CHECK(ok.layers[0].layer == "0");
    CHECK(ok.layers[1].layer == "2");
    for (const LayerGradcheck& l : ok.layers) CHECK(l.worst_error < 1e-2);

    for (const GradcheckMode mode : {GradcheckMode::directions, GradcheckMode::entries}) {
        for (float factor : {1.2f, 0.0f, -1.0f}) {
            INFO("mode " << to_string(mode) << ", weight gradient x " << factor);
            Sequential bad;
            bad.add(std::make_shared<Linear>(LinearOptions{.in_features = 6, .out_features = 8}));
            bad.add(std::make_shared<Tanh>());
            bad.add(std::make_shared<BrokenLinear>(LinearOptions{.in_features = 8, .out_features = 3}, factor));
            randomise(bad);
            const GradcheckResult r = gradcheck(bad, x, {.mode = mode});
            CHECK_FALSE(r.passed);
            CHECK(r.first_failure == "2");
            CHECK(r.layers[1].worst_error > 0.1);  // far above the tolerance, not a borderline call
            CHECK(r.layers[0].passed);  // the broken weight gradient does not reach the layer before
        }
    }
}

TEST_CASE("gradcheck: entries mode still passes a correct MLP, unknown modes are rejected", "[gradcheck]") {
    Sequential good;
    good.add(std::make_shared<Linear>(LinearOptions{.in_features = 6, .out_features = 8}));
    good.add(std::make_shared<Tanh>());
    good.add(std::make_shared<Linear>(LinearOptions{.in_features = 8, .out_features = 3}));
    randomise(good);
    const GradcheckResult r = gradcheck(good, random_input(4, 6), {.mode = GradcheckMode::entries});
    CHECK(r.passed);
    for (const LayerGradcheck& l : r.layers) CHECK(l.checked > 0);
    CHECK(parse_gradcheck_mode("entries") == GradcheckMode::entries);
    CHECK(parse_gradcheck_mode("directions") == GradcheckMode::directions);
    CHECK_THROWS_WITH(parse_gradcheck_mode("random"), Catch::Contains("directions"));
}

// Before, gradcheck asked the first layer for an input gradient and DftMelgram threw. (The layer1.bn mismatch once
// suspected here was a kink, not a backward bug: the dB floor of the melgram gives exact ties in max-pool windows,
// which frozen switches now handle. The model still fails on its conv biases before training-mode BatchNorm, whose
// exact gradient is 0, see README; so this test asserts only that every layer is checked.)
TEST_CASE("gradcheck: a model whose first layer has no input gradient (DftMelgram) is checked", "[gradcheck]") {
    auto model = models::build_model({{"preset", "choi2017_compact"}, {"input_samples", 8192}, {"n_dft", 256},
                                      {"hop_length", 128}, {"n_mels", 16}, {"channels", {4, 4}},
                                      {"pools", {{2, 2}, {2, 2}}}, {"seed", 1}},
                                     2);
    const Tensor x = normal_tensor(model->input_shape(2), 2, 0.1f);
    CHECK(model->input_grad());
    GradcheckResult r;
    CHECK_NOTHROW(r = gradcheck(*model, x));
    REQUIRE(r.layers.size() == 5);
    CHECK(r.layers[0].layer == "layer1.conv");
    CHECK(r.layers[4].layer == "dense");
    for (const LayerGradcheck& l : r.layers) CHECK(l.checked > 0);
    CHECK(r.layers[4].passed);
    CHECK(model->input_grad());  // restored
}

TEST_CASE("gradcheck: the tiny cnn1d passes and leaves its weights and buffers unchanged", "[gradcheck]") {
    auto model = models::build_model({{"preset", "cnn1d"}, {"n_mels", 16}, {"input_frames", 32}, {"channels", {8, 8}},
                                      {"kernel_sizes", {3, 3}}, {"pools", {2, 1}}, {"dense", {8}}, {"seed", 1}},
                                     2);
    const Tensor x = normal_tensor(model->input_shape(4), 1);
    std::vector<Tensor> before;
    for (Parameter* p : model->parameters()) before.push_back(p->value.clone());
    for (Buffer* b : model->buffers()) before.push_back(b->value.clone());
    const GradcheckResult r = gradcheck(*model, x);
    for (const LayerGradcheck& l : r.layers) INFO(l.layer << " " << l.worst_error << " " << l.worst_entry);
    CHECK(r.passed);
    std::size_t k = 0;
    for (Parameter* p : model->parameters()) CHECK(std::equal(p->data(), p->data() + p->size(), before[k++].data()));
    for (Buffer* b : model->buffers()) CHECK(std::equal(b->value.data(), b->value.data() + b->value.size(), before[k++].data()));
}

TEST_CASE("gradcheck: a small ReLU/max-pool CNN passes, a flipped conv weight gradient fails naming the conv", "[gradcheck]") {
    const Tensor x = normal_tensor({3, 1, 8, 8}, 4);

    auto good = small_cnn<Conv2d, BatchNorm2d>();
    randomise(*good);  // a bare Conv2d starts at zero weights: every gradient would vanish
    const GradcheckResult ok = gradcheck(*good, x, {.samples = 8});
    for (const LayerGradcheck& l : ok.layers) INFO(l.layer << " " << l.worst_error << " " << l.worst_entry);
    CHECK(ok.passed);
    REQUIRE(ok.layers.size() == 5);  // 0, 1, 4, 5, 8

    auto bad = small_cnn<FlippedGradConv2d, BatchNorm2d>();
    randomise(*bad);
    const GradcheckResult r = gradcheck(*bad, x, {.samples = 8});
    for (const LayerGradcheck& l : r.layers) INFO(l.layer << " " << l.worst_error << " " << l.worst_entry);
    CHECK_FALSE(r.passed);
    CHECK(r.first_failure == "4");
    CHECK(r.layers[2].worst_error > 0.1);
    CHECK(r.layers[3].passed);  // the layers after the broken one are untouched
    CHECK(r.layers[4].passed);
}

TEST_CASE("gradcheck: a BatchNorm with a wrong input gradient fails the layers before it", "[gradcheck]") {
    const Tensor x = normal_tensor({3, 1, 8, 8}, 6);
    auto bad = small_cnn<Conv2d, HalfInputGradBatchNorm2d>();
    randomise(*bad);
    const GradcheckResult r = gradcheck(*bad, x, {.samples = 8});
    for (const LayerGradcheck& l : r.layers) INFO(l.layer << " " << l.worst_error << " " << l.worst_entry);
    CHECK_FALSE(r.passed);
    CHECK(r.first_failure == "4");  // the conv feeding the broken BN: the failing layer nearest the output
    CHECK(r.layers[2].worst_error > 0.1);
    CHECK(r.layers[3].passed);      // the broken BN's own weight and bias gradients are right
    CHECK(r.layers[4].passed);
}
