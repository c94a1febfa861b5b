#include "nn/layers/direct_conv.hpp"

#include "nn/cpu_features.hpp"
#include "nn/threads.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <vector>

namespace mtag::nn::direct_conv {

namespace {

constexpr std::int64_t row_chunk = 8;  // output rows per forward task

// ---- portable loops (no AVX-512): the definitions, in the same summation order per element ----

void forward_portable(const Problem& p, std::int64_t b, std::int64_t co, std::int64_t i0, std::int64_t i1,
                      const float* x, const float* weight, const float* bias, float* y) {
    for (std::int64_t i = i0; i < i1; ++i)
        for (std::int64_t j = 0; j < p.out_w; ++j) {
            float s = bias ? bias[co] : 0.0f;
            for (std::int64_t ci = 0; ci < p.c_in; ++ci)
                for (std::int64_t a = 0; a < 3; ++a) {
                    const std::int64_t ih = i + a - p.pad_top;
                    if (ih < 0 || ih >= p.h) continue;
                    for (std::int64_t c = 0; c < 3; ++c) {
                        const std::int64_t iw = j + c - p.pad_left;
                        if (iw < 0 || iw >= p.w) continue;
                        s += weight[((co * p.c_in + ci) * 3 + a) * 3 + c] * x[((b * p.c_in + ci) * p.h + ih) * p.w + iw];
                    }
                }
            y[((b * p.c_out + co) * p.out_h + i) * p.out_w + j] = s;
        }
}

void weight_gradient_portable(const Problem& p, std::int64_t n, std::int64_t co, std::int64_t ci, const float* x,
                              const float* gy, float* weight_grad) {
    double sums[9] = {};
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t i = 0; i < p.out_h; ++i)
            for (std::int64_t a = 0; a < 3; ++a) {
                const std::int64_t ih = i + a - p.pad_top;
                if (ih < 0 || ih >= p.h) continue;
                const float* g = gy + ((b * p.c_out + co) * p.out_h + i) * p.out_w;
                const float* xr = x + ((b * p.c_in + ci) * p.h + ih) * p.w;
                for (std::int64_t c = 0; c < 3; ++c) {
                    float s = 0.0f;
                    for (std::int64_t j = 0; j < p.out_w; ++j) {
                        const std::int64_t iw = j + c - p.pad_left;
                        if (iw >= 0 && iw < p.w) s += g[j] * xr[iw];
                    }
                    sums[a * 3 + c] += s;
                }
            }
    for (int t = 0; t < 9; ++t) weight_grad[(co * p.c_in + ci) * 9 + t] += static_cast<float>(sums[t]);
}

void input_gradient_portable(const Problem& p, std::int64_t b, std::int64_t ci, std::int64_t ih, const float* gy,
                             const float* weight, float* gx) {
    float* out = gx + ((b * p.c_in + ci) * p.h + ih) * p.w;
    std::fill(out, out + p.w, 0.0f);
    for (std::int64_t co = 0; co < p.c_out; ++co)
        for (std::int64_t a = 0; a < 3; ++a) {
            const std::int64_t oi = ih - a + p.pad_top;
            if (oi < 0 || oi >= p.out_h) continue;
            const float* g = gy + ((b * p.c_out + co) * p.out_h + oi) * p.out_w;
            for (std::int64_t c = 0; c < 3; ++c) {
                const float wv = weight[((co * p.c_in + ci) * 3 + a) * 3 + c];
                for (std::int64_t iw = 0; iw < p.w; ++iw) {
                    const std::int64_t oj = iw - c + p.pad_left;
                    if (oj >= 0 && oj < p.out_w) out[iw] += wv * g[oj];
                }
            }
        }
}

// ---- AVX-512 ----

#if defined(__GNUC__) && defined(__x86_64__)
#define MTAG_HAVE_AVX512_DIRECT 1

// Lanes t of a 16-lane vector starting at element `start` whose index start + t lies in [0, size).
inline __mmask16 lanes_inside(std::int64_t start, std::int64_t size) {
    const std::int64_t lo = std::clamp<std::int64_t>(-start, 0, 16), hi = std::clamp<std::int64_t>(size - start, 0, 16);
    if (hi <= lo) return 0;
    return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// Row ih of input channel ci of sample b, or null where ih falls into the zero padding.
inline const float* input_row(const Problem& p, const float* x, std::int64_t b, std::int64_t ci, std::int64_t ih) {
    return ih < 0 || ih >= p.h ? nullptr : x + ((b * p.c_in + ci) * p.h + ih) * p.w;
}

// Input columns start .. start + 15 of a row; lanes outside [0, w) are zeros (masked off: never read).
__attribute__((target("avx512f"))) inline __m512 load_columns(const float* row, std::int64_t start, std::int64_t w) {
    return _mm512_maskz_loadu_ps(lanes_inside(start, w), row + start);
}

template <int CB>
__attribute__((target("avx512f"))) void forward_avx512(const Problem& p, std::int64_t b, std::int64_t co0,
                                                       std::int64_t i0, std::int64_t i1, const float* x,
                                                       const float* weight, const float* bias, float* y) {
    for (std::int64_t i = i0; i < i1; ++i) {
        for (std::int64_t j0 = 0; j0 < p.out_w; j0 += 16) {
            const __mmask16 out_mask = lanes_inside(j0, p.out_w);
            __m512 acc[CB];
            for (int k = 0; k < CB; ++k) acc[k] = bias ? _mm512_set1_ps(bias[co0 + k]) : _mm512_setzero_ps();
            for (std::int64_t ci = 0; ci < p.c_in; ++ci)
                for (std::int64_t a = 0; a < 3; ++a) {
                    const float* row = input_row(p, x, b, ci, i + a - p.pad_top);
                    if (!row) continue;
                    for (std::int64_t c = 0; c < 3; ++c) {
                        const __m512 v = load_columns(row, j0 + c - p.pad_left, p.w);
                        const float* wk = weight + ((co0 * p.c_in + ci) * 3 + a) * 3 + c;
                        for (int k = 0; k < CB; ++k)
                            acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(wk[k * p.c_in * 9]), v, acc[k]);
                    }
                }
            for (int k = 0; k < CB; ++k)
                _mm512_mask_storeu_ps(y + ((b * p.c_out + co0 + k) * p.out_h + i) * p.out_w + j0, out_mask, acc[k]);
        }
    }
}

// Two output channels (co, co + 1; the second absent when `two` is false) of one input channel, summed
// over every sample and position: 18 accumulators, flushed to double every few rows.
__attribute__((target("avx512f"))) void weight_gradient_avx512(const Problem& p, std::int64_t n, std::int64_t co,
                                                               bool two, std::int64_t ci, const float* x,
                                                               const float* gy, float* weight_grad) {
    double sums[2][9] = {};
    __m512 acc[2][9];
    auto reset = [&] {
        for (auto& per_co : acc)
            for (auto& v : per_co) v = _mm512_setzero_ps();
    };
    auto flush = [&] {
        alignas(64) float lanes[16];
        for (int k = 0; k < 2; ++k)
            for (int t = 0; t < 9; ++t) {
                _mm512_store_ps(lanes, acc[k][t]);
                for (const float v : lanes) sums[k][t] += static_cast<double>(v);
            }
        reset();
    };
    reset();
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t i = 0; i < p.out_h; ++i) {
            const float* g0 = gy + ((b * p.c_out + co) * p.out_h + i) * p.out_w;
            const float* g1 = two ? g0 + p.out_h * p.out_w : g0;
            for (std::int64_t j0 = 0; j0 < p.out_w; j0 += 16) {
                const __mmask16 out_mask = lanes_inside(j0, p.out_w);
                const __m512 gv0 = _mm512_maskz_loadu_ps(out_mask, g0 + j0);
                const __m512 gv1 = two ? _mm512_maskz_loadu_ps(out_mask, g1 + j0) : _mm512_setzero_ps();
                for (std::int64_t a = 0; a < 3; ++a) {
                    const float* row = input_row(p, x, b, ci, i + a - p.pad_top);
                    if (!row) continue;
                    for (std::int64_t c = 0; c < 3; ++c) {
                        const __m512 v = load_columns(row, j0 + c - p.pad_left, p.w);
                        acc[0][a * 3 + c] = _mm512_fmadd_ps(gv0, v, acc[0][a * 3 + c]);
                        acc[1][a * 3 + c] = _mm512_fmadd_ps(gv1, v, acc[1][a * 3 + c]);
                    }
                }
            }
            if (i % 4 == 3) flush();
        }
    flush();
    for (int t = 0; t < 9; ++t) {
        weight_grad[(co * p.c_in + ci) * 9 + t] += static_cast<float>(sums[0][t]);
        if (two) weight_grad[((co + 1) * p.c_in + ci) * 9 + t] += static_cast<float>(sums[1][t]);
    }
}

// One input row of the input gradient, 64 columns (four vectors) at a time, over every output channel and tap.
__attribute__((target("avx512f"))) void input_gradient_avx512(const Problem& p, std::int64_t b, std::int64_t ci,
                                                              std::int64_t ih, const float* gy, const float* weight,
                                                              float* gx) {
    float* out = gx + ((b * p.c_in + ci) * p.h + ih) * p.w;
    for (std::int64_t j0 = 0; j0 < p.w; j0 += 64) {
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        __mmask16 masks[3][4];
        for (int c = 0; c < 3; ++c)
            for (int u = 0; u < 4; ++u) masks[c][u] = lanes_inside(j0 + 16 * u - c + p.pad_left, p.out_w);
        for (std::int64_t co = 0; co < p.c_out; ++co)
            for (std::int64_t a = 0; a < 3; ++a) {
                const std::int64_t oi = ih - a + p.pad_top;
                if (oi < 0 || oi >= p.out_h) continue;
                const float* g = gy + ((b * p.c_out + co) * p.out_h + oi) * p.out_w;
                for (int c = 0; c < 3; ++c) {
                    const __m512 wv = _mm512_set1_ps(weight[((co * p.c_in + ci) * 3 + a) * 3 + c]);
                    const std::int64_t start = j0 - c + p.pad_left;
                    for (int u = 0; u < 4; ++u)
                        acc[u] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(masks[c][u], g + start + 16 * u), acc[u]);
                }
            }
        for (int u = 0; u < 4; ++u)
            _mm512_mask_storeu_ps(out + j0 + 16 * u, lanes_inside(j0 + 16 * u, p.w), acc[u]);
    }
}

#endif

}  // namespace

void forward(const Problem& p, std::int64_t n, const float* x, const float* weight, const float* bias, float* y) {
    constexpr std::int64_t block = 8;
    const std::int64_t blocks = (p.c_out + block - 1) / block, chunks = (p.out_h + row_chunk - 1) / row_chunk;
    parallel_for(n * blocks * chunks, 1, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / (blocks * chunks), cb = (t / chunks) % blocks, chunk = t % chunks;
            const std::int64_t i0 = chunk * row_chunk, i1 = std::min(p.out_h, i0 + row_chunk);
            const std::int64_t co0 = cb * block, co1 = std::min(p.c_out, co0 + block);
#ifdef MTAG_HAVE_AVX512_DIRECT
            if (cpu_has_avx512f()) {
                if (co1 - co0 == block) {
                    forward_avx512<block>(p, b, co0, i0, i1, x, weight, bias, y);
                } else {
                    for (std::int64_t co = co0; co < co1; ++co) forward_avx512<1>(p, b, co, i0, i1, x, weight, bias, y);
                }
                continue;
            }
#endif
            for (std::int64_t co = co0; co < co1; ++co) forward_portable(p, b, co, i0, i1, x, weight, bias, y);
        }
    });
}

void weight_gradient(const Problem& p, std::int64_t n, const float* x, const float* gy, float* weight_grad) {
    // Tasks own output channels (pairs of them) and one input channel: every weight-gradient element is
    // summed by one task in a fixed order, whatever the thread count.
    const std::int64_t pairs = (p.c_out + 1) / 2;
    parallel_for(pairs * p.c_in, 1, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t co = (t / p.c_in) * 2, ci = t % p.c_in;
            const bool two = co + 1 < p.c_out;
#ifdef MTAG_HAVE_AVX512_DIRECT
            if (cpu_has_avx512f()) {
                weight_gradient_avx512(p, n, co, two, ci, x, gy, weight_grad);
                continue;
            }
#endif
            weight_gradient_portable(p, n, co, ci, x, gy, weight_grad);
            if (two) weight_gradient_portable(p, n, co + 1, ci, x, gy, weight_grad);
        }
    });
}

void input_gradient(const Problem& p, std::int64_t n, const float* gy, const float* weight, float* gx) {
    parallel_for(n * p.c_in * p.h, 4, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / (p.c_in * p.h), ci = (t / p.h) % p.c_in, ih = t % p.h;
#ifdef MTAG_HAVE_AVX512_DIRECT
            if (cpu_has_avx512f()) {
                input_gradient_avx512(p, b, ci, ih, gy, weight, gx);
                continue;
            }
#endif
            input_gradient_portable(p, b, ci, ih, gy, weight, gx);
        }
    });
}

}  // namespace mtag::nn::direct_conv
