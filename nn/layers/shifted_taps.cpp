#include "nn/layers/shifted_taps.hpp"

#include "nn/gemm.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace mtag::nn::shifted_taps {

namespace {

// Output columns per chunk: the chunk of y and the matching input columns stay cache-resident (~1 MB)
// while every tap accumulates into them.
std::int64_t tap_chunk(const ConvGeometry& g) {
    return std::max<std::int64_t>(256, (std::int64_t{1} << 18) / (g.c_in + g.c_out));
}

// Valid output columns [lo, hi) of chunk [l0, l1) for tap j: input column l + offset must be in [0, w).
void tap_range(std::int64_t l0, std::int64_t l1, std::int64_t offset, std::int64_t w, std::int64_t& lo,
               std::int64_t& hi) {
    lo = std::max(l0, -offset);
    hi = std::min(l1, w - offset);
}

}  // namespace

void pack_weights(const ConvGeometry& g, const float* wt, float* taps) {
    for (std::int64_t co = 0; co < g.c_out; ++co)
        for (std::int64_t ci = 0; ci < g.c_in; ++ci)
            for (std::int64_t j = 0; j < g.kw; ++j)
                taps[static_cast<std::size_t>((j * g.c_out + co) * g.c_in + ci)] =
                    wt[(co * g.c_in + ci) * g.kw + j];
}

void forward(const ConvGeometry& g, const float* taps, const float* x, std::int64_t w, std::int64_t ow,
             float* y) {
    const int co = static_cast<int>(g.c_out), ci = static_cast<int>(g.c_in);
    const std::int64_t chunk = tap_chunk(g);
    for (std::int64_t l0 = 0; l0 < ow; l0 += chunk) {
        const std::int64_t l1 = std::min(ow, l0 + chunk);
        bool written = false;
        for (std::int64_t j = 0; j < g.kw; ++j) {
            const std::int64_t offset = j * g.dw - g.pad_left;
            std::int64_t lo, hi;
            tap_range(l0, l1, offset, w, lo, hi);
            if (hi <= lo) continue;
            if (!written && (lo != l0 || hi != l1)) {
                for (std::int64_t c = 0; c < g.c_out; ++c) std::fill(y + c * ow + l0, y + c * ow + l1, 0.0f);
                written = true;
            }
            gemm(CblasNoTrans, CblasNoTrans, co, static_cast<int>(hi - lo), ci, 1.0f,
                        taps + j * g.c_out * g.c_in, ci, x + lo + offset, static_cast<int>(w),
                        written ? 1.0f : 0.0f, y + lo, static_cast<int>(ow));
            written = true;
        }
        if (!written)
            for (std::int64_t c = 0; c < g.c_out; ++c) std::fill(y + c * ow + l0, y + c * ow + l1, 0.0f);
    }
}

void backward(const ConvGeometry& g, const float* taps, const float* x, const float* gy, std::int64_t w,
              std::int64_t ow, float* tap_grads, float* gx) {
    const int co = static_cast<int>(g.c_out), ci = static_cast<int>(g.c_in);
    const std::int64_t chunk = tap_chunk(g);
    for (std::int64_t l0 = 0; l0 < ow; l0 += chunk) {
        const std::int64_t l1 = std::min(ow, l0 + chunk);
        for (std::int64_t j = 0; j < g.kw; ++j) {
            const std::int64_t offset = j * g.dw - g.pad_left;
            std::int64_t lo, hi;
            tap_range(l0, l1, offset, w, lo, hi);
            if (hi <= lo) continue;
            const int cols = static_cast<int>(hi - lo);
            if (tap_grads)
                gemm(CblasNoTrans, CblasTrans, co, ci, cols, 1.0f, gy + lo,
                            static_cast<int>(ow), x + lo + offset, static_cast<int>(w), 1.0f,
                            tap_grads + j * g.c_out * g.c_in, ci);
            if (gx)
                gemm(CblasTrans, CblasNoTrans, ci, cols, co, 1.0f,
                            taps + j * g.c_out * g.c_in, ci, gy + lo, static_cast<int>(ow), 1.0f,
                            gx + lo + offset, static_cast<int>(w));
        }
    }
}

void add_unpacked_gradient(const ConvGeometry& g, const float* tap_grads, float* gw) {
    for (std::int64_t co = 0; co < g.c_out; ++co)
        for (std::int64_t ci = 0; ci < g.c_in; ++ci)
            for (std::int64_t j = 0; j < g.kw; ++j)
                gw[(co * g.c_in + ci) * g.kw + j] +=
                    tap_grads[static_cast<std::size_t>((j * g.c_out + co) * g.c_in + ci)];
}

}  // namespace mtag::nn::shifted_taps
