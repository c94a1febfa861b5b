#pragma once
// Float reductions in 16 independent lanes, combined pairwise in a fixed order.
// Why: a single running `float` sum is one long dependency chain that the compiler may not reorder
// (no -ffast-math), so it runs at one add per 4 cycles. Sixteen lanes vectorise, are more accurate than
// the running sum, and give the same bits on every run and for every thread count (the order depends
// only on n).
#include <cstdint>

namespace mtag::nn {

inline constexpr int kSumLanes = 16;

namespace detail {
inline float combine_lanes(float (&acc)[kSumLanes], float tail) {
    for (int width = kSumLanes / 2; width > 0; width /= 2)
        for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
    return acc[0] + tail;
}

// sum_i term(i) in the 16 lanes, the remainder in `tail`.
template <class Term>
inline float lane_reduce(std::int64_t n, Term&& term) {
    if (n < kSumLanes) {  // short rows (BN over 6 positions): the lanes would stay zero
        float tail = 0.0f;
        for (std::int64_t i = 0; i < n; ++i) tail += term(i);
        return 0.0f + tail;  // combine_lanes's last step, so that -0 sums give the same bits
    }
    float acc[kSumLanes] = {};
    std::int64_t i = 0;
    for (; i + kSumLanes <= n; i += kSumLanes)
        for (int l = 0; l < kSumLanes; ++l) acc[l] += term(i + l);
    float tail = 0.0f;
    for (; i < n; ++i) tail += term(i);
    return combine_lanes(acc, tail);
}
}  // namespace detail

// sum_i x[i]
inline float lane_sum(const float* x, std::int64_t n) {
    return detail::lane_reduce(n, [x](std::int64_t i) { return x[i]; });
}

// sum_i (x[i] - m)^2
inline float lane_sum_squared_deviation(const float* x, std::int64_t n, float m) {
    return detail::lane_reduce(n, [x, m](std::int64_t i) { return (x[i] - m) * (x[i] - m); });
}

// sum_i g[i] * (x[i] - m)
inline float lane_sum_product_deviation(const float* g, const float* x, std::int64_t n, float m) {
    return detail::lane_reduce(n, [g, x, m](std::int64_t i) { return g[i] * (x[i] - m); });
}

}  // namespace mtag::nn
