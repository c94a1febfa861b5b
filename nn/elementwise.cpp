#include "nn/elementwise.hpp"

#include "nn/threads.hpp"

namespace mtag::nn {

namespace {
// Below this many elements a chunk is not worth waking a thread for (64 K floats: 256 KB, in L2).
constexpr std::int64_t k_elementwise_grain = std::int64_t{1} << 16;
}  // namespace

void add(const float* a, const float* b, float* out, std::int64_t n) {
    parallel_for(n, k_elementwise_grain, [=](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
    });
}

void add_into(float* dst, const float* src, std::int64_t n) {
    add(dst, src, dst, n);
}

}  // namespace mtag::nn
