#pragma once
// Element-wise sums of whole activation tensors (residual connections and the gradients that meet at
// them), split over the engine's pool. Each element is one addition, so the result does not depend on the
// thread count. Written as plain loops over raw pointers with the length read once: a loop bounded by
// Tensor::size() re-read the size after every store (the store might have changed the shape, as far as the
// compiler could tell), which kept the loop scalar with a call per element.
#include <cstdint>

namespace mtag::nn {

// out[i] = a[i] + b[i] for i < n; out may be a or b.
void add(const float* a, const float* b, float* out, std::int64_t n);

// dst[i] += src[i] for i < n.
void add_into(float* dst, const float* src, std::int64_t n);

}  // namespace mtag::nn
