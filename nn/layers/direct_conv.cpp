#include "nn/layers/direct_conv.hpp"

#include "nn/cpu_features.hpp"
#include "nn/layers/direct_conv_avx2.hpp"
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
// Input rows per task of the fused backward pass: each task also reads two halo rows of the output
// gradient, so 16 rows cost 1/8 extra reads and still give 6 tasks for a 96-row map.
constexpr std::int64_t fused_row_chunk = 16;

// ---- portable loops (no AVX-512, no AVX2): the definitions, in the same summation order per element ----

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

// Load masks of every 16-column block of a row, computed once per task (not per load): entry 4k is the
// block's own lanes inside [0, size0); entry 4k + 1 + c the lanes whose column 16k + t + offset + sign * c
// lies in [0, size1), i.e. tap c's shifted read. Interior blocks get all-ones masks.
std::vector<__mmask16> block_masks(std::int64_t blocks, std::int64_t size0, std::int64_t size1, std::int64_t offset,
                                   int sign) {
    std::vector<__mmask16> m(static_cast<std::size_t>(blocks * 4));
    for (std::int64_t k = 0; k < blocks; ++k) {
        m[static_cast<std::size_t>(4 * k)] = lanes_inside(16 * k, size0);
        for (int c = 0; c < 3; ++c) m[static_cast<std::size_t>(4 * k + 1 + c)] = lanes_inside(16 * k + offset + sign * c, size1);
    }
    return m;
}

// Rows [i0, i1) of output channels co0 .. co0 + CB - 1. With `stream`, the 16-column blocks of each row are
// laid out so that their stores are 64-byte aligned, and full blocks are written with non-temporal stores:
// the output is larger than the cache and is not read again before it has left it, so this saves the
// read-for-ownership of every output line (a third of the layer's memory traffic). Requires the output
// planes of the CB channels to share their alignment (plane size a multiple of 16).
template <int CB>
__attribute__((target("avx512f"))) void forward_avx512(const Problem& p, std::int64_t b, std::int64_t co0,
                                                       std::int64_t i0, std::int64_t i1, const float* x,
                                                       const float* weight, const float* bias, float* y,
                                                       bool stream) {
    for (std::int64_t i = i0; i < i1; ++i) {
        float* y0 = y + ((b * p.c_out + co0) * p.out_h + i) * p.out_w;
        // First block column: 0, or where the first aligned block ends when streaming.
        const std::int64_t first =
            stream ? -static_cast<std::int64_t>((reinterpret_cast<std::uintptr_t>(y0) % 64) / sizeof(float)) : 0;
        for (std::int64_t j0 = first; j0 < p.out_w; j0 += 16) {
            // Interior blocks (the common case) read and write all 16 lanes.
            __mmask16 m[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
            if (j0 < 0 || j0 + 16 > p.out_w || j0 - p.pad_left < 0 || j0 + 18 - p.pad_left > p.w) {
                m[0] = lanes_inside(j0, p.out_w);
                for (int c = 0; c < 3; ++c) m[1 + c] = lanes_inside(j0 + c - p.pad_left, p.w);
            }
            __m512 acc[CB];
            for (int o = 0; o < CB; ++o) acc[o] = bias ? _mm512_set1_ps(bias[co0 + o]) : _mm512_setzero_ps();
            for (std::int64_t ci = 0; ci < p.c_in; ++ci)
                for (std::int64_t a = 0; a < 3; ++a) {
                    const float* row = input_row(p, x, b, ci, i + a - p.pad_top);
                    if (!row) continue;
                    for (std::int64_t c = 0; c < 3; ++c) {
                        // Masked-off lanes (the row's borders) are zeros and are never read.
                        const __m512 v = _mm512_maskz_loadu_ps(m[1 + c], row + j0 + c - p.pad_left);
                        const float* wk = weight + ((co0 * p.c_in + ci) * 3 + a) * 3 + c;
                        for (int o = 0; o < CB; ++o)
                            acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wk[o * p.c_in * 9]), v, acc[o]);
                    }
                }
            const std::int64_t plane = p.out_h * p.out_w;
            if (stream && m[0] == 0xFFFF) {
                for (int o = 0; o < CB; ++o) _mm512_stream_ps(y0 + o * plane + j0, acc[o]);
            } else {
                for (int o = 0; o < CB; ++o) _mm512_mask_storeu_ps(y0 + o * plane + j0, m[0], acc[o]);
            }
        }
    }
    if (stream) _mm_sfence();  // order the non-temporal stores before the task reports completion
}

// Two output channels (co, co + 1; the second absent when `two` is false) of one input channel, summed
// over every sample and position: 18 accumulators, flushed to double every few rows.
__attribute__((target("avx512f"))) void weight_gradient_avx512(const Problem& p, std::int64_t n, std::int64_t co,
                                                               bool two, std::int64_t ci, const float* x,
                                                               const float* gy, float* weight_grad) {
    const std::int64_t blocks = (p.out_w + 15) / 16;
    const std::vector<__mmask16> masks = block_masks(blocks, p.out_w, p.w, -p.pad_left, 1);
    double sums[2][9] = {};
    __m512 acc[2][9];
    // A lambda does not inherit its enclosing function's target; without its own, GCC refuses to inline the
    // intrinsics when the build's -march lacks AVX-512.
    auto reset = [&]() __attribute__((target("avx512f"))) {
        for (auto& per_co : acc)
            for (auto& v : per_co) v = _mm512_setzero_ps();
    };
    auto flush = [&]() __attribute__((target("avx512f"))) {
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
            for (std::int64_t a = 0; a < 3; ++a) {
                const float* row = input_row(p, x, b, ci, i + a - p.pad_top);
                if (!row) continue;
                // One input row against both gradient rows: 3 shifted loads feed 6 accumulators per block.
                __m512 r0[3] = {acc[0][a * 3], acc[0][a * 3 + 1], acc[0][a * 3 + 2]};
                __m512 r1[3] = {acc[1][a * 3], acc[1][a * 3 + 1], acc[1][a * 3 + 2]};
                for (std::int64_t k = 0; k < blocks; ++k) {
                    const __mmask16* m = masks.data() + 4 * k;
                    const std::int64_t j0 = 16 * k;
                    if (a == 0) {  // two planes streamed side by side: help the stream detector
                        _mm_prefetch(reinterpret_cast<const char*>(g0 + j0 + 256), _MM_HINT_T0);
                        _mm_prefetch(reinterpret_cast<const char*>(g1 + j0 + 256), _MM_HINT_T0);
                    }
                    const __m512 gv0 = _mm512_maskz_loadu_ps(m[0], g0 + j0);
                    const __m512 gv1 = _mm512_maskz_loadu_ps(m[0], g1 + j0);
                    for (int c = 0; c < 3; ++c) {
                        const __m512 v = _mm512_maskz_loadu_ps(m[1 + c], row + j0 + c - p.pad_left);
                        r0[c] = _mm512_fmadd_ps(gv0, v, r0[c]);
                        r1[c] = _mm512_fmadd_ps(gv1, v, r1[c]);
                    }
                }
                for (int c = 0; c < 3; ++c) {
                    acc[0][a * 3 + c] = r0[c];
                    acc[1][a * 3 + c] = two ? r1[c] : _mm512_setzero_ps();
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

// Input rows [ih0, ih1) of one input channel. Each output-gradient row is read once per task, in order,
// and added into the (up to three) input rows it reaches, held in an L1/L2-resident buffer; reading the
// rows of every channel column block by column block instead touched hundreds of streams at once.
__attribute__((target("avx512f"))) void input_gradient_avx512(const Problem& p, std::int64_t b, std::int64_t ci,
                                                              std::int64_t ih0, std::int64_t ih1, const float* gy,
                                                              const float* weight, float* gx) {
    const std::int64_t blocks = (p.w + 15) / 16, stride = blocks * 16;
    const std::vector<__mmask16> masks = block_masks(blocks, p.w, p.out_w, p.pad_left, -1);
    std::vector<float> rows(static_cast<std::size_t>((ih1 - ih0) * stride), 0.0f);
    const std::int64_t oi0 = std::max<std::int64_t>(0, ih0 - 2 + p.pad_top);
    const std::int64_t oi1 = std::min<std::int64_t>(p.out_h, ih1 + p.pad_top);
    for (std::int64_t co = 0; co < p.c_out; ++co) {
        const float* wk = weight + (co * p.c_in + ci) * 9;
        for (std::int64_t oi = oi0; oi < oi1; ++oi) {
            const float* g = gy + ((b * p.c_out + co) * p.out_h + oi) * p.out_w;
            float* target[3];
            __m512 wv[3][3];
            int targets = 0;
            for (int a = 0; a < 3; ++a) {
                const std::int64_t ih = oi + a - p.pad_top;
                if (ih < ih0 || ih >= ih1) continue;
                target[targets] = rows.data() + (ih - ih0) * stride;
                for (int c = 0; c < 3; ++c) wv[targets][c] = _mm512_set1_ps(wk[a * 3 + c]);
                ++targets;
            }
            for (std::int64_t k = 0; k < blocks; ++k) {
                const __mmask16* m = masks.data() + 4 * k;
                const float* gk = g + 16 * k + p.pad_left;
                // The rows of one channel are a short contiguous run before the next channel's: prefetch
                // ahead (the hardware stream detector restarts at each channel and loses ~40% here).
                _mm_prefetch(reinterpret_cast<const char*>(gk + 256), _MM_HINT_T0);
                const __m512 v0 = _mm512_maskz_loadu_ps(m[1], gk), v1 = _mm512_maskz_loadu_ps(m[2], gk - 1),
                             v2 = _mm512_maskz_loadu_ps(m[3], gk - 2);
                for (int t = 0; t < targets; ++t) {
                    float* out = target[t] + 16 * k;
                    __m512 s = _mm512_loadu_ps(out);
                    s = _mm512_fmadd_ps(wv[t][0], v0, s);
                    s = _mm512_fmadd_ps(wv[t][1], v1, s);
                    s = _mm512_fmadd_ps(wv[t][2], v2, s);
                    _mm512_storeu_ps(out, s);
                }
            }
        }
    }
    for (std::int64_t ih = ih0; ih < ih1; ++ih)
        std::copy_n(rows.data() + (ih - ih0) * stride, p.w, gx + ((b * p.c_in + ci) * p.h + ih) * p.w);
}

// One input channel (C_in = 1): the input gradient of input rows [ih0, ih1) and the partial weight and
// bias gradients of the output rows the task owns (those in [ih0, ih1)), in one pass over the output
// gradient. For each output channel and 16-column strip, the task walks down the rows once; the three
// shifted output-gradient vectors d_c = gy(i, j + pad_left - c) of row i each feed six FMAs:
//   gx(i + a - pad_top, j) += w(a, c) d_c          (three rolling row accumulators)
//   dw(a, c)               += d_c x(i + a - pad_top, j)  (nine accumulators; x rows rolling)
// so each gy element is loaded once per shift, and gy is read from memory once (plus two halo rows per
// task) instead of once for each gradient. gx rows are written by this task only; dw and db go to the
// task's own partial sums (part: c_out x 10 doubles), which the caller adds in task order.
constexpr std::int64_t prefetch_strips = 4;

// WithGx false: weight and bias gradients only (a first layer, whose input needs no gradient).
template <bool WithGx>
__attribute__((target("avx512f"))) void backward_fused_avx512(const Problem& p, std::int64_t b, std::int64_t ih0,
                                                              std::int64_t ih1, const float* x, const float* gy,
                                                              const float* weight, float* gx, double* part) {
    const std::int64_t strips = (p.w + 15) / 16;
    const float* xs = x + b * p.h * p.w;
    float* gxs = WithGx ? gx + b * p.h * p.w : nullptr;
    if constexpr (WithGx) std::fill(gxs + ih0 * p.w, gxs + ih1 * p.w, 0.0f);
    // Output rows whose gradient reaches input rows [ih0, ih1): i + a - pad_top in [ih0, ih1) for some a
    // (without gx, only the rows the task owns).
    const std::int64_t i_first = WithGx ? ih0 + p.pad_top - 2 : ih0;
    const std::int64_t i_last = WithGx ? ih1 - 1 + p.pad_top : ih1 - 1;
    for (std::int64_t co = 0; co < p.c_out; ++co) {
        const float* wk = weight + co * 9;
        __m512 wv[9], dw[9];
        for (int t = 0; t < 9; ++t) wv[t] = _mm512_set1_ps(wk[t]), dw[t] = _mm512_setzero_ps();
        __m512 db = _mm512_setzero_ps();
        const float* gyc = gy + (b * p.c_out + co) * p.out_h * p.out_w;
        for (std::int64_t s = 0; s < strips; ++s) {
            const std::int64_t j0 = 16 * s;
            const __mmask16 mx = lanes_inside(j0, p.w);
            __mmask16 md[3];
            for (int c = 0; c < 3; ++c) md[c] = lanes_inside(j0 + p.pad_left - c, p.out_w);
            // xr[a]: x row i + a - pad_top; g[a]: the gx row i + a - pad_top being accumulated.
            const auto x_row = [&](std::int64_t ih) __attribute__((target("avx512f"))) {
                return ih < 0 || ih >= p.h ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mx, xs + ih * p.w + j0);
            };
            __m512 xr[3] = {x_row(i_first - p.pad_top), x_row(i_first + 1 - p.pad_top), x_row(i_first + 2 - p.pad_top)};
            __m512 g[3] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (std::int64_t i = i_first; i <= i_last; ++i) {
                if (i >= 0 && i < p.out_h) {
                    const float* row = gyc + i * p.out_w + j0 + p.pad_left;
                    // The walk goes down a 16-column strip of 18 rows, so the hardware sees 18 interleaved
                    // streams and does not keep up: fetch the next channel's line at this position into L2
                    // (a whole channel of lead time) and this row's line a few strips ahead into L1.
                    _mm_prefetch(reinterpret_cast<const char*>(row + p.out_h * p.out_w), _MM_HINT_T1);
                    _mm_prefetch(reinterpret_cast<const char*>(row + 16 * prefetch_strips), _MM_HINT_T0);
                    const bool owned = i >= ih0 && i < ih1;
                    for (int c = 0; c < 3; ++c) {
                        const __m512 d = _mm512_maskz_loadu_ps(md[c], row - c);
                        if constexpr (WithGx)
                            for (int a = 0; a < 3; ++a) g[a] = _mm512_fmadd_ps(wv[a * 3 + c], d, g[a]);
                        if (owned) {
                            for (int a = 0; a < 3; ++a) dw[a * 3 + c] = _mm512_fmadd_ps(d, xr[a], dw[a * 3 + c]);
                            if (c == p.pad_left) db = _mm512_add_ps(db, d);
                        }
                    }
                }
                // gx row i - pad_top is complete for this channel.
                const std::int64_t done = i - p.pad_top;
                if (WithGx && done >= ih0 && done < ih1) {
                    float* out = gxs + done * p.w + j0;
                    _mm512_mask_storeu_ps(out, mx, _mm512_add_ps(_mm512_maskz_loadu_ps(mx, out), g[0]));
                }
                g[0] = g[1], g[1] = g[2], g[2] = _mm512_setzero_ps();
                xr[0] = xr[1], xr[1] = xr[2], xr[2] = x_row(i + 3 - p.pad_top);
            }
        }
        alignas(64) float lanes[16];
        double* pc = part + co * 10;
        for (int t = 0; t < 9; ++t) {
            _mm512_store_ps(lanes, dw[t]);
            double sum = 0.0;
            for (const float v : lanes) sum += v;
            pc[t] += sum;
        }
        _mm512_store_ps(lanes, db);
        double sum = 0.0;
        for (const float v : lanes) sum += v;
        pc[9] += sum;
    }
}

#endif

}  // namespace

void forward(const Problem& p, std::int64_t n, const float* x, const float* weight, const float* bias, float* y,
             Stores stores) {
    constexpr std::int64_t block = 8;
    // Non-temporal stores when the output is larger than the last-level cache (see forward_avx512).
    const bool large =
        static_cast<double>(n * p.c_out * p.out_h * p.out_w) * sizeof(float) > last_level_cache_bytes();
    const bool stream = (p.out_h * p.out_w) % 16 == 0 &&
                        (stores == Stores::streamed || (stores == Stores::automatic && large));
    const std::int64_t blocks = (p.c_out + block - 1) / block, chunks = (p.out_h + row_chunk - 1) / row_chunk;
    const bool avx2 = cpu_has_avx2() && cpu_has_fma();
    parallel_for(n * blocks * chunks, 1, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / (blocks * chunks), cb = (t / chunks) % blocks, chunk = t % chunks;
            const std::int64_t i0 = chunk * row_chunk, i1 = std::min(p.out_h, i0 + row_chunk);
            const std::int64_t co0 = cb * block, co1 = std::min(p.c_out, co0 + block);
#ifdef MTAG_HAVE_AVX512_DIRECT
            if (cpu_has_avx512f()) {
                if (co1 - co0 == block) {
                    forward_avx512<block>(p, b, co0, i0, i1, x, weight, bias, y, stream);
                } else {
                    for (std::int64_t co = co0; co < co1; ++co)
                        forward_avx512<1>(p, b, co, i0, i1, x, weight, bias, y, stream);
                }
                continue;
            }
#endif
            if (avx2) {
                avx2::forward_rows(p, b, co0, co1, i0, i1, x, weight, bias, y, stream);
                continue;
            }
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

bool fused_backward(const Problem& p, std::int64_t n, const float* x, const float* gy, const float* weight,
                    float* weight_grad, float* bias_grad, float* gx) {
#ifdef MTAG_HAVE_AVX512_DIRECT
    const bool avx512 = cpu_has_avx512f();
    if (p.c_in != 1 || !(avx512 || (cpu_has_avx2() && cpu_has_fma()))) return false;
    const std::int64_t chunks = (p.h + fused_row_chunk - 1) / fused_row_chunk, tasks = n * chunks;
    std::vector<double> parts(static_cast<std::size_t>(tasks * p.c_out * 10), 0.0);
    parallel_for(tasks, 1, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / chunks, ih0 = (t % chunks) * fused_row_chunk;
            const std::int64_t ih1 = std::min(p.h, ih0 + fused_row_chunk);
            double* part = parts.data() + t * p.c_out * 10;
            if (!avx512)
                avx2::backward_rows(p, b, ih0, ih1, x, gy, weight, gx, part);
            else if (gx)
                backward_fused_avx512<true>(p, b, ih0, ih1, x, gy, weight, gx, part);
            else
                backward_fused_avx512<false>(p, b, ih0, ih1, x, gy, weight, nullptr, part);
        }
    });
    // Partial sums added in task order: the result does not depend on the thread count.
    for (std::int64_t co = 0; co < p.c_out; ++co) {
        double sums[10] = {};
        for (std::int64_t t = 0; t < tasks; ++t)
            for (int k = 0; k < 10; ++k) sums[k] += parts[static_cast<std::size_t>((t * p.c_out + co) * 10 + k)];
        for (int k = 0; k < 9; ++k) weight_grad[co * 9 + k] += static_cast<float>(sums[k]);
        if (bias_grad) bias_grad[co] += static_cast<float>(sums[9]);
    }
    return true;
#else
    (void)p, (void)n, (void)x, (void)gy, (void)weight, (void)weight_grad, (void)bias_grad, (void)gx;
    return false;
#endif
}

void input_gradient(const Problem& p, std::int64_t n, const float* gy, const float* weight, float* gx) {
    const std::int64_t chunks = (p.h + row_chunk - 1) / row_chunk;
    parallel_for(n * p.c_in * chunks, 1, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t b = t / (p.c_in * chunks), ci = (t / chunks) % p.c_in, chunk = t % chunks;
            const std::int64_t ih0 = chunk * row_chunk, ih1 = std::min(p.h, ih0 + row_chunk);
#ifdef MTAG_HAVE_AVX512_DIRECT
            if (cpu_has_avx512f()) {
                input_gradient_avx512(p, b, ci, ih0, ih1, gy, weight, gx);
                continue;
            }
#endif
            for (std::int64_t ih = ih0; ih < ih1; ++ih) input_gradient_portable(p, b, ci, ih, gy, weight, gx);
        }
    });
}

}  // namespace mtag::nn::direct_conv
