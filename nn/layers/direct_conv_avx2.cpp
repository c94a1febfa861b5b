#include "nn/layers/direct_conv_avx2.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace mtag::nn::direct_conv::avx2 {

namespace {

// Output channels per forward block: 4 channels x 2 vectors of 8 columns = 8 accumulators, leaving
// registers for the two input vectors and a weight broadcast.
constexpr int channel_block = 4;

// Lanes t of an 8-lane vector starting at element `start` whose index start + t lies in [0, size), as the
// all-ones / zero lane mask vmaskmovps takes.
__attribute__((target("avx2"))) inline __m256i lanes_inside(std::int64_t start, std::int64_t size) {
    const int lo = static_cast<int>(std::clamp<std::int64_t>(-start, 0, 8));
    const int hi = static_cast<int>(std::clamp<std::int64_t>(size - start, 0, 8));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    // lo <= t < hi
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), lane),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane));
}

// Row ih of the one input channel ci of sample b, or null inside the zero padding.
inline const float* input_row(const Problem& p, const float* x, std::int64_t b, std::int64_t ci,
                              std::int64_t ih) {
    return ih < 0 || ih >= p.h ? nullptr : x + ((b * p.c_in + ci) * p.h + ih) * p.w;
}

template <int CB>
__attribute__((target("avx2,fma"))) void forward_block(const Problem& p, std::int64_t b, std::int64_t co0,
                                                       std::int64_t i0, std::int64_t i1, const float* x,
                                                       const float* weight, const float* bias, float* y,
                                                       bool stream) {
    const std::int64_t plane = p.out_h * p.out_w;
    for (std::int64_t i = i0; i < i1; ++i) {
        float* y0 = y + ((b * p.c_out + co0) * p.out_h + i) * p.out_w;
        // First block column: 0, or where the first 64-byte aligned block ends when streaming.
        const std::int64_t first =
            stream ? -static_cast<std::int64_t>((reinterpret_cast<std::uintptr_t>(y0) % 64) / sizeof(float))
                   : 0;
        for (std::int64_t j0 = first; j0 < p.out_w; j0 += 16) {
            const bool out_full = j0 >= 0 && j0 + 16 <= p.out_w;
            const bool interior = out_full && j0 - p.pad_left >= 0 && j0 + 18 - p.pad_left <= p.w;
            __m256i m_out[2], m_in[3][2];
            if (!interior)
                for (int h = 0; h < 2; ++h) {
                    m_out[h] = lanes_inside(j0 + 8 * h, p.out_w);
                    for (int c = 0; c < 3; ++c) m_in[c][h] = lanes_inside(j0 + 8 * h + c - p.pad_left, p.w);
                }
            __m256 acc[CB][2];
            for (int o = 0; o < CB; ++o)
                acc[o][0] = acc[o][1] = bias ? _mm256_set1_ps(bias[co0 + o]) : _mm256_setzero_ps();
            for (std::int64_t ci = 0; ci < p.c_in; ++ci)
                for (std::int64_t a = 0; a < 3; ++a) {
                    const float* row = input_row(p, x, b, ci, i + a - p.pad_top);
                    if (!row) continue;
                    for (std::int64_t c = 0; c < 3; ++c) {
                        const float* src = row + j0 + c - p.pad_left;
                        __m256 v0, v1;
                        if (interior) {
                            v0 = _mm256_loadu_ps(src), v1 = _mm256_loadu_ps(src + 8);
                        } else {  // masked-off lanes (the row's borders) are zeros and are never read
                            v0 = _mm256_maskload_ps(src, m_in[c][0]),
                            v1 = _mm256_maskload_ps(src + 8, m_in[c][1]);
                        }
                        const float* wk = weight + ((co0 * p.c_in + ci) * 3 + a) * 3 + c;
                        for (int o = 0; o < CB; ++o) {
                            const __m256 wv = _mm256_set1_ps(wk[o * p.c_in * 9]);
                            acc[o][0] = _mm256_fmadd_ps(wv, v0, acc[o][0]);
                            acc[o][1] = _mm256_fmadd_ps(wv, v1, acc[o][1]);
                        }
                    }
                }
            for (int o = 0; o < CB; ++o) {
                float* out = y0 + o * plane + j0;
                if (stream && out_full) {
                    _mm256_stream_ps(out, acc[o][0]), _mm256_stream_ps(out + 8, acc[o][1]);
                } else if (out_full) {
                    _mm256_storeu_ps(out, acc[o][0]), _mm256_storeu_ps(out + 8, acc[o][1]);
                } else {
                    _mm256_maskstore_ps(out, m_out[0], acc[o][0]),
                        _mm256_maskstore_ps(out + 8, m_out[1], acc[o][1]);
                }
            }
        }
    }
    if (stream) _mm_sfence();  // order the non-temporal stores before the task reports completion
}

// The lanes of an 8-column strip starting at column j0 that lie inside an input row (x) and, for each tap
// column c, inside the output-gradient row at the shifted read j0 + pad_left - c (d[c]).
struct StripMasks {
    __m256i x, d[3];
};
__attribute__((target("avx2"))) inline StripMasks strip_masks(const Problem& p, std::int64_t j0) {
    StripMasks m;
    m.x = lanes_inside(j0, p.w);
    for (int c = 0; c < 3; ++c) m.d[c] = lanes_inside(j0 + p.pad_left - c, p.out_w);
    return m;
}

// Sum of a vector's 8 lanes in double, in lane order.
__attribute__((target("avx2"))) inline double lane_sum(__m256 v) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    double sum = 0.0;
    for (const float f : lanes) sum += f;
    return sum;
}

// Weight and bias gradients of output rows [ih0, ih1) (C_in = 1): per output channel and 8-column strip,
// the walk down the rows keeps 9 tap accumulators and 3 rolling input rows; the three shifted gradient
// vectors d_c = gy(i, j + pad_left - c) each feed three FMAs: dw(a, c) += d_c x(i + a - pad_top, j).
__attribute__((target("avx2,fma"))) void weight_pass(const Problem& p, std::int64_t b, std::int64_t ih0,
                                                     std::int64_t ih1, const float* x, const float* gy,
                                                     double* part) {
    const std::int64_t strips = (p.w + 7) / 8;
    const float* xs = x + b * p.h * p.w;
    const __m256 zero = _mm256_setzero_ps();
    for (std::int64_t co = 0; co < p.c_out; ++co) {
        __m256 dw[9], db = zero;
        for (auto& v : dw) v = zero;
        const float* gyc = gy + (b * p.c_out + co) * p.out_h * p.out_w;
        for (std::int64_t s = 0; s < strips; ++s) {
            const std::int64_t j0 = 8 * s;
            const StripMasks m = strip_masks(p, j0);
            const auto x_row = [&](std::int64_t ih) __attribute__((target("avx2"))) {
                return ih < 0 || ih >= p.h ? _mm256_setzero_ps()
                                           : _mm256_maskload_ps(xs + ih * p.w + j0, m.x);
            };
            __m256 xr[3] = {x_row(ih0 - p.pad_top), x_row(ih0 + 1 - p.pad_top), x_row(ih0 + 2 - p.pad_top)};
            for (std::int64_t i = ih0; i < ih1; ++i) {
                if (i < p.out_h) {
                    const float* row = gyc + i * p.out_w + j0 + p.pad_left;
                    _mm_prefetch(reinterpret_cast<const char*>(row + p.out_h * p.out_w), _MM_HINT_T1);
                    for (int c = 0; c < 3; ++c) {
                        const __m256 d = _mm256_maskload_ps(row - c, m.d[c]);
                        for (int a = 0; a < 3; ++a) dw[a * 3 + c] = _mm256_fmadd_ps(d, xr[a], dw[a * 3 + c]);
                        if (c == p.pad_left) db = _mm256_add_ps(db, d);
                    }
                }
                xr[0] = xr[1], xr[1] = xr[2], xr[2] = x_row(i + 3 - p.pad_top);
            }
        }
        double* pc = part + co * 10;
        for (int t = 0; t < 9; ++t) pc[t] += lane_sum(dw[t]);
        pc[9] += lane_sum(db);
    }
}

// Input gradient rows [ih0, ih1) (C_in = 1): per output channel and 8-column strip, the walk down the
// output-gradient rows that reach them keeps three rolling row accumulators,
// gx(i + a - pad_top, j) += w(a, c) d_c, added to gx when a row is complete for the channel.
__attribute__((target("avx2,fma"))) void input_pass(const Problem& p, std::int64_t b, std::int64_t ih0,
                                                    std::int64_t ih1, const float* gy, const float* weight,
                                                    float* gx) {
    const std::int64_t strips = (p.w + 7) / 8;
    float* gxs = gx + b * p.h * p.w;
    std::fill(gxs + ih0 * p.w, gxs + ih1 * p.w, 0.0f);
    const std::int64_t i_first = ih0 + p.pad_top - 2, i_last = ih1 - 1 + p.pad_top;
    for (std::int64_t co = 0; co < p.c_out; ++co) {
        __m256 wv[9];
        for (int t = 0; t < 9; ++t) wv[t] = _mm256_set1_ps(weight[co * 9 + t]);
        const float* gyc = gy + (b * p.c_out + co) * p.out_h * p.out_w;
        for (std::int64_t s = 0; s < strips; ++s) {
            const std::int64_t j0 = 8 * s;
            const StripMasks m = strip_masks(p, j0);
            __m256 g[3] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
            for (std::int64_t i = i_first; i <= i_last; ++i) {
                if (i >= 0 && i < p.out_h) {
                    const float* row = gyc + i * p.out_w + j0 + p.pad_left;
                    _mm_prefetch(reinterpret_cast<const char*>(row + p.out_h * p.out_w), _MM_HINT_T1);
                    for (int c = 0; c < 3; ++c) {
                        const __m256 d = _mm256_maskload_ps(row - c, m.d[c]);
                        for (int a = 0; a < 3; ++a) g[a] = _mm256_fmadd_ps(wv[a * 3 + c], d, g[a]);
                    }
                }
                const std::int64_t done = i - p.pad_top;  // gx row complete for this channel
                if (done >= ih0 && done < ih1) {
                    float* out = gxs + done * p.w + j0;
                    _mm256_maskstore_ps(out, m.x, _mm256_add_ps(_mm256_maskload_ps(out, m.x), g[0]));
                }
                g[0] = g[1], g[1] = g[2], g[2] = _mm256_setzero_ps();
            }
        }
    }
}

}  // namespace

void forward_rows(const Problem& p, std::int64_t b, std::int64_t co0, std::int64_t co1, std::int64_t i0,
                  std::int64_t i1, const float* x, const float* weight, const float* bias, float* y,
                  bool stream) {
    std::int64_t co = co0;
    for (; co + channel_block <= co1; co += channel_block)
        forward_block<channel_block>(p, b, co, i0, i1, x, weight, bias, y, stream);
    for (; co < co1; ++co) forward_block<1>(p, b, co, i0, i1, x, weight, bias, y, stream);
}

void backward_rows(const Problem& p, std::int64_t b, std::int64_t ih0, std::int64_t ih1, const float* x,
                   const float* gy, const float* weight, float* gx, double* part) {
    weight_pass(p, b, ih0, ih1, x, gy, part);
    if (gx) input_pass(p, b, ih0, ih1, gy, weight, gx);
}

}  // namespace mtag::nn::direct_conv::avx2
