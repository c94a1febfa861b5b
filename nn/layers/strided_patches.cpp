#include "nn/layers/strided_patches.hpp"

#include "nn/cpu_features.hpp"
#include "nn/lane_sum.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace mtag::nn::strided_patches {

namespace {

#if defined(__GNUC__) && defined(__x86_64__)
#define MTAG_HAVE_STREAM_KERNEL 1
// One output element of phase_sum_stream's unaligned head and short tail, in the vector lanes' sum order.
inline void phase_sum_one(const float* ph, std::int64_t hw, std::int64_t taps, const float* wr, float b,
                          float* yr, std::int64_t i) {
    float acc = b;
    for (std::int64_t t = 0; t < taps; ++t) acc += wr[t] * ph[t * hw + i];
    yr[i] = acc;
}

// yr[l] = b + sum_t wr[t] * ph[t * hw + l] for l < hw, summed in registers and written with non-temporal
// stores (the output row is not read again soon; this skips the read-for-ownership of y).
__attribute__((target("avx512f"))) void phase_sum_stream(const float* ph, std::int64_t hw, std::int64_t taps,
                                                         const float* wr, float b, float* yr) {
    std::int64_t l = 0;
    for (; l < hw && reinterpret_cast<std::uintptr_t>(yr + l) % 64 != 0; ++l)
        phase_sum_one(ph, hw, taps, wr, b, yr, l);
    for (; l + 16 <= hw; l += 16) {
        __m512 acc = _mm512_set1_ps(b);
        for (std::int64_t t = 0; t < taps; ++t)
            acc = _mm512_fmadd_ps(_mm512_set1_ps(wr[t]), _mm512_loadu_ps(ph + t * hw + l), acc);
        _mm512_stream_ps(yr + l, acc);
    }
    for (; l < hw; ++l) phase_sum_one(ph, hw, taps, wr, b, yr, l);
    _mm_sfence();
}

// The same on 8 lanes for CPUs without AVX-512 (the same sum order per element: the same bits).
__attribute__((target("avx2,fma"))) void phase_sum_stream_avx2(const float* ph, std::int64_t hw,
                                                               std::int64_t taps, const float* wr, float b,
                                                               float* yr) {
    std::int64_t l = 0;
    for (; l < hw && reinterpret_cast<std::uintptr_t>(yr + l) % 32 != 0; ++l)
        phase_sum_one(ph, hw, taps, wr, b, yr, l);
    for (; l + 8 <= hw; l += 8) {
        __m256 acc = _mm256_set1_ps(b);
        for (std::int64_t t = 0; t < taps; ++t)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(wr[t]), _mm256_loadu_ps(ph + t * hw + l), acc);
        _mm256_stream_ps(yr + l, acc);
    }
    for (; l < hw; ++l) phase_sum_one(ph, hw, taps, wr, b, yr, l);
    _mm_sfence();
}
#endif

// The input of the strided layer split into its kw phases: row (c * kw + k) holds x(c, r, l * kw + k) for
// every (r, l), h * ow values (scratch slot `slot`).
float* split_phases(const ConvGeometry& g, const float* x, std::int64_t h, std::int64_t w, std::int64_t ow,
                    int slot) {
    const std::int64_t hw = h * ow;
    float* ph = scratch(static_cast<std::size_t>(g.c_in * g.kw * hw), slot);
    for (std::int64_t c = 0; c < g.c_in; ++c)
        for (std::int64_t r = 0; r < h; ++r) {
            const float* row = x + (c * h + r) * w;
            for (std::int64_t l = 0; l < ow; ++l)
                for (std::int64_t k = 0; k < g.kw; ++k)
                    ph[(c * g.kw + k) * hw + r * ow + l] = row[l * g.kw + k];
        }
    return ph;
}

}  // namespace

// The non-overlapping strided layer (kernel == stride along w, kernel 1 along h, c_in <= 4): y(co, r, l) =
// bias(co) + sum over (c, k) of w(co, c, k) x(c, r, l*kw + k). The input is split once into its kw phases
// (c_in*kw rows of h*ow values), then every output row is a short sum of scaled phase rows, written
// once with the bias folded in: the layer is bound by writing y, which a K = kw GEMM plus a separate
// bias pass wrote twice. Parallel over output channels; the order of the sums is fixed.
void forward(const ConvGeometry& g, const float* x, std::int64_t h, std::int64_t w, std::int64_t ow,
             const float* wt, const float* bias, float* y) {
    const std::int64_t taps = g.c_in * g.kw, hw = h * ow;
    float* ph = split_phases(g, x, h, w, ow, 0);
    constexpr std::int64_t chunk = 2048;  // an L1-sized piece of the output row
    parallel_for(g.c_out, 4, [&](std::int64_t c0, std::int64_t c1) {
#ifdef MTAG_HAVE_STREAM_KERNEL
        if (cpu_has_avx512f()) {
            for (std::int64_t co = c0; co < c1; ++co)
                phase_sum_stream(ph, hw, taps, wt + co * taps, bias ? bias[co] : 0.0f, y + co * hw);
            return;
        }
        if (cpu_has_avx2() && cpu_has_fma()) {
            for (std::int64_t co = c0; co < c1; ++co)
                phase_sum_stream_avx2(ph, hw, taps, wt + co * taps, bias ? bias[co] : 0.0f, y + co * hw);
            return;
        }
#endif
        for (std::int64_t co = c0; co < c1; ++co) {
            float* yr = y + co * hw;
            const float* wr = wt + co * taps;
            const float b = bias ? bias[co] : 0.0f;
            for (std::int64_t l0 = 0; l0 < hw; l0 += chunk) {
                const std::int64_t l1 = std::min(hw, l0 + chunk);
                for (std::int64_t l = l0; l < l1; ++l) yr[l] = b + wr[0] * ph[l];
                for (std::int64_t t = 1; t < taps; ++t) {
                    const float wv = wr[t];
                    const float* p = ph + t * hw;
                    for (std::int64_t l = l0; l < l1; ++l) yr[l] += wv * p[l];
                }
            }
        }
    });
}

// Its gradients, from the same phase split: grad_w(co, t) += sum_l gy(co, l) ph(t, l) (one lane sum per
// (co, t), tasks own output channels: fixed order) and grad_x's phases gph(t, l) = sum_co w(co, t) gy(co, l)
// over L1-sized pieces of l, interleaved back into x's layout; the columns past the last window get 0.
// Two GEMMs with N = kw did the same at a fifth of the speed.
void backward(const ConvGeometry& g, const float* x, const float* gy, std::int64_t h, std::int64_t w,
              std::int64_t ow, const float* wt, float* gw, float* gx) {
    const std::int64_t taps = g.c_in * g.kw, hw = h * ow;
    if (gw) {
        const float* ph = split_phases(g, x, h, w, ow, 0);
        parallel_for(g.c_out, 4, [&](std::int64_t c0, std::int64_t c1) {
            for (std::int64_t co = c0; co < c1; ++co)
                for (std::int64_t t = 0; t < taps; ++t)
                    gw[co * taps + t] += lane_sum_product_deviation(gy + co * hw, ph + t * hw, hw, 0.0f);
        });
    }
    if (!gx) return;
    float* gph = scratch(static_cast<std::size_t>(taps * hw), 1);
    constexpr std::int64_t chunk = 1024;
    parallel_for((hw + chunk - 1) / chunk, 1, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t l0 = b * chunk, l1 = std::min(hw, l0 + chunk);
            for (std::int64_t t = 0; t < taps; ++t) std::fill(gph + t * hw + l0, gph + t * hw + l1, 0.0f);
            for (std::int64_t co = 0; co < g.c_out; ++co) {  // each piece of gy read once, for every phase
                const float* gr = gy + co * hw;
                for (std::int64_t t = 0; t < taps; ++t) {
                    const float wv = wt[co * taps + t];
                    float* out = gph + t * hw;
                    for (std::int64_t l = l0; l < l1; ++l) out[l] += wv * gr[l];
                }
            }
        }
    });
    for (std::int64_t c = 0; c < g.c_in; ++c)
        for (std::int64_t r = 0; r < h; ++r) {
            float* row = gx + (c * h + r) * w;
            for (std::int64_t l = 0; l < ow; ++l)
                for (std::int64_t k = 0; k < g.kw; ++k) row[l * g.kw + k] = gph[(c * g.kw + k) * hw + r * ow + l];
            std::fill(row + ow * g.kw, row + w, 0.0f);
        }
}

}  // namespace mtag::nn::strided_patches
