#pragma once
// Two convolutions with the same parameters, for tests that compare a path under test with a reference path.
#include "nn/gradcheck.hpp"
#include "nn/layers/conv.hpp"

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

}  // namespace mtag::nn::test
