#pragma once
// Two convolutions with the same parameters, for tests that compare a path under test with a reference path.
#include "nn/gradcheck.hpp"
#include "nn/layers/conv.hpp"
#include "nn/threads.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

namespace mtag::nn::test {

// Gives `a` and `b` the same random weights in [-0.5, 0.5] (seed) and the same random bias (seed + 1) when
// they have one.
inline void same_random_parameters(ConvBase& a, ConvBase& b, std::uint64_t seed) {
    const Tensor wv = random_tensor(a.weight().shape(), seed, -0.5f, 0.5f);
    a.weight().value.copy_from(wv);
    b.weight().value.copy_from(wv);
    if (a.bias() && b.bias()) {
        a.bias()->value.copy_from(random_tensor(a.bias()->value.shape(), seed + 1));
        b.bias()->value.copy_from(a.bias()->value);
    }
}

// One forward and backward pass of each on x, with the same random output gradient (gy_seed): outputs and
// input gradients agree within `margin`, weight gradients within `weight_margin` times the reference's
// largest one. Gradients accumulate, so call it on freshly zeroed layers.
inline void require_same_passes(ConvBase& ref, ConvBase& conv, const Tensor& x, std::uint64_t gy_seed, double margin,
                                double weight_margin) {
    const Tensor y0 = ref.forward(x).clone();
    const Tensor y1 = conv.forward(x).clone();
    REQUIRE(y0.shape() == y1.shape());
    for (std::size_t i = 0; i < y0.size(); ++i) REQUIRE(y1[i] == Approx(y0[i]).margin(margin));
    const Tensor gy = random_tensor(y0.shape(), gy_seed);
    const Tensor gx0 = ref.backward(gy).clone();
    const Tensor gx1 = conv.backward(gy).clone();
    REQUIRE(gx0.shape() == gx1.shape());
    for (std::size_t i = 0; i < gx0.size(); ++i) REQUIRE(gx1[i] == Approx(gx0[i]).margin(margin));
    const Tensor& gw0 = ref.weight().grad;
    const Tensor& gw1 = conv.weight().grad;
    float scale = 0.0f;
    for (float v : gw0.span()) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < gw0.size(); ++i) REQUIRE(gw1[i] == Approx(gw0[i]).margin(weight_margin * scale));
}

// One forward and backward pass of `conv` at each thread count: output, input gradient and weight
// gradient per count, three tensors each, in order (the budget is left at 1).
inline std::vector<Tensor> passes_per_thread_count(ConvBase& conv, const Tensor& x, const Tensor& gy,
                                                   std::initializer_list<int> thread_counts) {
    std::vector<Tensor> runs;
    for (int threads : thread_counts) {
        set_thread_budget(threads);
        conv.zero_grad();
        runs.push_back(conv.forward(x).clone());
        runs.push_back(conv.backward(gy).clone());
        runs.push_back(conv.weight().grad.clone());
    }
    set_thread_budget(1);
    return runs;
}

}  // namespace mtag::nn::test
