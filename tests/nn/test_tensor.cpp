#include "nn/tensor.hpp"

#include "dsp/error.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using mtag::nn::Shape;
using mtag::nn::Tensor;

TEST_CASE("tensor: zero-initialised, 64-byte aligned, shape and size") {
    Tensor t({2, 3, 5, 7});
    CHECK(t.rank() == 4);
    CHECK(t.size() == 210);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    for (float v : t.span()) CHECK(v == 0.0f);
    CHECK(t.shape().str() == "[2, 3, 5, 7]");
}

TEST_CASE("tensor: views share storage, clone copies") {
    Tensor t = Tensor::full({4, 6}, 1.0f);
    Tensor v = t.view({2, -1});
    CHECK(v.shape() == Shape({2, 12}));
    CHECK(v.shares_storage(t));
    v[5] = 3.0f;
    CHECK(t.at(0, 5) == 3.0f);
    Tensor s = t.slice(1, 3);
    CHECK(s.shape() == Shape({2, 6}));
    CHECK(s.data() == t.data() + 6);
    Tensor c = t.clone();
    CHECK_FALSE(c.shares_storage(t));
    c[5] = 7.0f;
    CHECK(t[5] == 3.0f);
    CHECK(Tensor({2, 3, 4}).flatten(1).shape() == Shape({2, 12}));
    CHECK_THROWS_AS(t.view({5, 5}), mtag::Error);
    CHECK_THROWS_AS(t.slice(2, 5), mtag::Error);
}

TEST_CASE("tensor: reuse_or_allocate never overwrites a tensor someone else holds") {
    Tensor cache;
    Tensor a = mtag::nn::reuse_or_allocate(cache, {2, 8});
    Tensor b = mtag::nn::reuse_or_allocate(cache, {2, 8});
    CHECK_FALSE(a.shares_storage(b));  // a was still held
    const float* where = b.data();
    b = Tensor();
    a = Tensor();
    Tensor c = mtag::nn::reuse_or_allocate(cache, {4, 4});
    CHECK(c.data() == where);  // reused once nobody else held it
    Tensor d = mtag::nn::reuse_or_allocate(cache, {4, 5});
    CHECK(d.shape() == Shape({4, 5}));
}
