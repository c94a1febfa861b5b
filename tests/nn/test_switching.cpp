// Tests nn/switching.hpp: with frozen switches, ReLU, LeakyReLU, max pooling (local and adaptive argmax), global
// max pooling and Maxout reuse the choices of the last unfrozen forward pass; unfrozen they choose again; a
// different input shape while frozen is an error; FrozenSwitches finds every such layer and unfreezes on exit.
#include "nn/switching.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/maxout.hpp"
#include "nn/layers/pool.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace mtag::nn;

namespace {

Tensor random_tensor(const Shape& shape, unsigned seed) {
    Tensor x(shape);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = normal(rng);
    return x;
}

// out(x2) with the switches chosen on x1 equals the linear map "backward of the x1 pass" applied to x2: for a
// layer that is linear on each piece, forward_frozen(x2) . g == x2 . backward(g) for every g.
void check_frozen_is_the_base_piece(Module& layer, Switching& sw, const Shape& shape) {
    const Tensor x1 = random_tensor(shape, 1);
    const Tensor y1 = layer.forward(x1.clone()).clone();  // clones: an in-place ReLU overwrites its input
    const Tensor g = random_tensor(y1.shape(), 2);
    const Tensor gx = layer.backward(g.clone()).clone();
    const Tensor x2 = random_tensor(shape, 3);  // switches differ almost everywhere from x1's
    sw.freeze_switches(true);
    const Tensor y2 = layer.forward(x2.clone()).clone();
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < y2.size(); ++i) lhs += double(y2[i]) * g[i];
    for (std::size_t i = 0; i < x2.size(); ++i) rhs += double(x2[i]) * gx[i];
    CHECK(lhs == Approx(rhs).epsilon(1e-5));
    // Frozen again on x1 itself: the base output exactly.
    const Tensor again = layer.forward(x1.clone()).clone();
    CHECK(std::equal(again.data(), again.data() + again.size(), y1.data()));
    // A different shape cannot use the recorded choices.
    Shape other = shape;
    other[0] += 1;
    CHECK_THROWS_WITH(layer.forward(random_tensor(other, 4)), Catch::Contains("frozen switches"));
    sw.freeze_switches(false);
    // Unfrozen: x2 chooses its own switches, so the output differs from the frozen one.
    const Tensor y2_free = layer.forward(x2.clone()).clone();
    CHECK_FALSE(std::equal(y2_free.data(), y2_free.data() + y2_free.size(), y2.data()));
}

}  // namespace

TEST_CASE("switching: frozen ReLU and LeakyReLU apply the recorded mask", "[switching]") {
    ReLU relu;
    check_frozen_is_the_base_piece(relu, relu, {2, 3, 37});
    ReLU inplace(true);
    check_frozen_is_the_base_piece(inplace, inplace, {2, 5, 8});
    LeakyReLU leaky(0.1f);
    check_frozen_is_the_base_piece(leaky, leaky, {3, 33});
}

TEST_CASE("switching: frozen max pools take the recorded argmax (full, clipped and adaptive windows)", "[switching]") {
    MaxPool2d full(Pool2dOptions{.kernel_size = {2, 2}});
    check_frozen_is_the_base_piece(full, full, {2, 3, 8, 12});
    MaxPool2d clipped(Pool2dOptions{.kernel_size = {3, 3}, .stride = {2, 2}, .padding = {1, 1}, .ceil_mode = true});
    check_frozen_is_the_base_piece(clipped, clipped, {2, 2, 7, 9});
    MaxPool1d pool1d(Pool1dOptions{.kernel_size = 3});
    check_frozen_is_the_base_piece(pool1d, pool1d, {2, 4, 27});
    AdaptiveMaxPool2d adaptive(1, 1);  // one window of 400 elements: the int32 argmax
    check_frozen_is_the_base_piece(adaptive, adaptive, {2, 2, 20, 20});
}

TEST_CASE("switching: frozen global max pooling and Maxout take the recorded maxima", "[switching]") {
    GlobalPool all(GlobalPoolOptions{.mode = GlobalPoolOptions::Mode::max, .axes = GlobalPoolOptions::Axes::all});
    check_frozen_is_the_base_piece(all, all, {2, 3, 4, 5});
    GlobalPool time(GlobalPoolOptions{.mode = GlobalPoolOptions::Mode::max, .axes = GlobalPoolOptions::Axes::time});
    check_frozen_is_the_base_piece(time, time, {2, 3, 4, 5});
    Maxout maxout(MaxoutOptions{.pieces = 3});
    check_frozen_is_the_base_piece(maxout, maxout, {2, 6, 10});
}

TEST_CASE("switching: FrozenSwitches freezes every switching layer of a model and unfreezes on exit", "[switching]") {
    Sequential model;
    auto relu = std::make_shared<ReLU>();
    auto pool = std::make_shared<MaxPool1d>(Pool1dOptions{.kernel_size = 2});
    model.add(relu);
    model.add(std::make_shared<Tanh>());
    model.add(pool);
    {
        const FrozenSwitches frozen(model);
        CHECK(frozen.size() == 3);  // Tanh is an Activation too (Switching; its flag only matters to ReLU kinds)
        CHECK(relu->switches_frozen());
        CHECK(pool->switches_frozen());
    }
    CHECK_FALSE(relu->switches_frozen());
    CHECK_FALSE(pool->switches_frozen());
}
