#include "nn/layers/pool.hpp"

#include "dsp/error.hpp"
#include "nn/cpu_features.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mtag::nn {

namespace {

// One output row of a max pool over full, non-overlapping kh x kw windows starting at xr (row stride w):
// o[j] = the window maximum, a[j] = its row-major offset inside the window (only with Arg: inference mode
// keeps no offsets, a is null). Windows are visited in PyTorch's row-major order with its rule (take v when
// v > max || isnan(v)) written as selects, one input row at a time, so the j loop has no branch and a
// compile-time window width: it vectorises.
template <int KW, bool Arg>
void max_window_row(const float* __restrict xr, std::int64_t w, std::int64_t kh, std::int64_t kw,
                    float* __restrict o, std::uint8_t* __restrict a, std::int64_t ow) {
    const std::int64_t width = KW > 0 ? KW : kw;
    for (std::int64_t r = 0; r < kh; ++r) {
        const float* __restrict src = xr + r * w;
        for (std::int64_t j = 0; j < ow; ++j) {
            float best = r == 0 ? src[j * width] : o[j];
            std::uint8_t arg = r == 0 || !Arg ? 0 : a[j];
            for (std::int64_t q = r == 0 ? 1 : 0; q < width; ++q) {
                const float v = src[j * width + q];
                const bool take = (v > best) | (v != v);
                best = take ? v : best;
                arg = take ? static_cast<std::uint8_t>(r * width + q) : arg;
            }
            o[j] = best;
            if constexpr (Arg) a[j] = arg;
        }
    }
}

using WindowRowKernel = void (*)(const float*, std::int64_t, std::int64_t, std::int64_t, float*, std::uint8_t*,
                                 std::int64_t);

// The adjoint of max_window_row<KW>: rows r of the window row starting at xr receive g[j] at the window's
// selected offset a[j] and 0 elsewhere, including the columns past the last full window.
template <int KW>
void max_window_row_backward(const float* __restrict g, const std::uint8_t* __restrict a, std::int64_t ow,
                             std::int64_t w, std::int64_t kh, std::int64_t kw, float* __restrict xr) {
    const std::int64_t width = KW > 0 ? KW : kw;
    for (std::int64_t r = 0; r < kh; ++r) {
        float* __restrict out = xr + r * w;
        const auto first = static_cast<std::uint8_t>(r * width);
        for (std::int64_t j = 0; j < ow; ++j)
            for (std::int64_t q = 0; q < width; ++q)
                out[j * width + q] = a[j] == static_cast<std::uint8_t>(first + q) ? g[j] : 0.0f;
        for (std::int64_t col = ow * width; col < w; ++col) out[col] = 0.0f;
    }
}

using WindowRowBackward = void (*)(const float*, const std::uint8_t*, std::int64_t, std::int64_t, std::int64_t,
                                   std::int64_t, float*);

#if defined(__GNUC__) && defined(__x86_64__)
#define MTAG_HAVE_AVX512_POOL 1

// The mask of the lanes below k (all 16 from k = 16 on, none at k <= 0): the last windows of a row.
inline __mmask16 lanes_below(std::int64_t k) {
    return static_cast<__mmask16>(k >= 16 ? 0xFFFF : k <= 0 ? 0 : (1u << k) - 1);
}

// The AVX-512 form of max_window_row<KW>: 16 windows (KW vectors of input) per step. Column q of the
// 16 windows (lanes j -> element j * KW + q) is gathered from vector pairs with two-table permutes and
// blended by pair; the selection rule and the visiting order are the scalar kernel's, so results and
// argmax offsets are identical. The last ow % 16 windows take the same path with masked loads and stores:
// left to the scalar kernel, they were most of the work for short rows (cnn1d: 22 and 9 windows a row).
// Without Arg (inference mode) no offsets are kept and a is null.
template <int KW, bool Arg>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void max_window_row_avx512(
    const float* xr, std::int64_t w, std::int64_t kh, std::int64_t /*kw: KW*/, float* o, std::uint8_t* a,
    std::int64_t ow) {
    constexpr int pairs = (KW + 1) / 2;
    __m512i index[KW];
    __mmask16 from_pair[KW][pairs];
    for (int q = 0; q < KW; ++q) {
        alignas(64) std::int32_t lanes[16];
        for (int j = 0; j < 16; ++j) lanes[j] = j * KW + q;
        index[q] = _mm512_load_si512(lanes);
        for (int p = 0; p < pairs; ++p) {
            unsigned bits = 0;
            for (int j = 0; j < 16; ++j) bits |= static_cast<unsigned>(lanes[j] / 32 == p) << j;
            from_pair[q][p] = static_cast<__mmask16>(bits);
        }
    }
    for (std::int64_t r = 0; r < kh; ++r) {
        const float* src = xr + r * w;
        for (std::int64_t j = 0; j < ow; j += 16) {
            // Windows [j, j + rem): lanes past them load zeros and are never stored.
            const std::int64_t rem = std::min<std::int64_t>(16, ow - j), elems = rem * KW;
            const __mmask16 out_mask = lanes_below(rem);
            __m512 v[2 * pairs];
            for (int t = 0; t < KW; ++t) v[t] = _mm512_maskz_loadu_ps(lanes_below(elems - 16 * t), src + j * KW + 16 * t);
            if constexpr (KW % 2 == 1) v[KW] = v[KW - 1];
            // The lambda needs the target too: it does not inherit it from the function around it.
            auto column = [&](int q) __attribute__((target("avx512f,avx512bw,avx512vl"))) {
                __m512 col = _mm512_permutex2var_ps(v[0], index[q], v[1]);
                for (int p = 1; p < pairs; ++p)
                    col = _mm512_mask_blend_ps(from_pair[q][p], col,
                                               _mm512_permutex2var_ps(v[2 * p], index[q], v[2 * p + 1]));
                return col;
            };
            __m512 best = r == 0 ? column(0) : _mm512_maskz_loadu_ps(out_mask, o + j);
            __m128i arg = r == 0 || !Arg ? _mm_setzero_si128() : _mm_maskz_loadu_epi8(out_mask, a + j);
            for (int q = r == 0 ? 1 : 0; q < KW; ++q) {
                const __m512 col = column(q);
                const __mmask16 take =
                    _mm512_cmp_ps_mask(col, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(col, col, _CMP_UNORD_Q);
                best = _mm512_mask_blend_ps(take, best, col);
                if constexpr (Arg) arg = _mm_mask_blend_epi8(take, arg, _mm_set1_epi8(static_cast<char>(r * KW + q)));
            }
            _mm512_mask_storeu_ps(o + j, out_mask, best);
            if constexpr (Arg) _mm_mask_storeu_epi8(a + j, out_mask, arg);
        }
    }
}

// The AVX-512 form of max_window_row_backward<KW>: 16 windows (KW output vectors per window row) per
// step. Output element e of the step belongs to window e / KW at column e % KW; its window's gradient and
// offset are moved into place with lane permutes and kept where the offset selects that column. The
// compiler had left the scalar loop's strided stores scalar (MaxPool2d (2,4) on a 128 x 48 x 341 map:
// 0.62 ms on one thread for 8.4 MB written).
template <int KW>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void max_window_row_backward_avx512(
    const float* g, const std::uint8_t* a, std::int64_t ow, std::int64_t w, std::int64_t kh,
    std::int64_t /*kw: KW*/, float* xr) {
    __m512i window[KW], column[KW];
    for (int t = 0; t < KW; ++t) {
        alignas(64) std::int32_t win[16], col[16];
        for (int l = 0; l < 16; ++l) win[l] = (16 * t + l) / KW, col[l] = (16 * t + l) % KW;
        window[t] = _mm512_load_si512(win);
        column[t] = _mm512_load_si512(col);
    }
    for (std::int64_t r = 0; r < kh; ++r) {
        float* out = xr + r * w;
        std::fill(out + ow * KW, out + w, 0.0f);  // columns past the last window
        const __m512i first = _mm512_set1_epi32(static_cast<int>(r * KW));
        // The last ow % 16 windows too, with masked loads and stores (lanes past them are never stored).
        for (std::int64_t j = 0; j < ow; j += 16) {
            const std::int64_t rem = std::min<std::int64_t>(16, ow - j), elems = rem * KW;
            const __mmask16 in_mask = lanes_below(rem);
            const __m512 gv = _mm512_maskz_loadu_ps(in_mask, g + j);
            // The maskz forms with all lanes set: GCC 12 warns that the unmasked ones read an
            // uninitialised vector (their undefined pass-through operand).
            constexpr __mmask16 all = 0xFFFF;
            const __m512i av =
                _mm512_sub_epi32(_mm512_maskz_cvtepu8_epi32(all, _mm_maskz_loadu_epi8(in_mask, a + j)), first);
            for (int t = 0; t < KW; ++t) {
                const __mmask16 keep =
                    _mm512_cmpeq_epi32_mask(_mm512_maskz_permutexvar_epi32(all, window[t], av), column[t]);
                _mm512_mask_storeu_ps(out + j * KW + 16 * t, lanes_below(elems - 16 * t),
                                      _mm512_maskz_permutexvar_ps(keep, window[t], gv));
            }
        }
    }
}

// ---- AVX2 forms (CPUs without AVX-512): 8 windows per step, the same visiting order and selection rule,
// so the same maxima and offsets as the scalar kernels. AVX2 has no two-table permute and no mask
// registers: column q of 8 windows (lane j -> element j * KW + q) is assembled from the KW input vectors
// with vpermps and blends, and borders use vmaskmovps. The scalar loops left 2 x 2 pooling of a
// 128 x 128 x 231 map (16 clips) at 119 ms forward.

// Lanes t < k set (all-ones int lanes), for vmaskmovps.
__attribute__((target("avx2"))) inline __m256i lanes_below8(std::int64_t k) {
    const int hi = static_cast<int>(std::clamp<std::int64_t>(k, 0, 8));
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The low byte of each 32-bit lane, 8 of them, to a[0 .. count).
__attribute__((target("avx2"))) inline void store_low_bytes(std::uint8_t* a, __m256i v, std::int64_t count) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4,
                                          8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i packed = _mm256_shuffle_epi8(v, pick);
    const std::uint32_t lo = static_cast<std::uint32_t>(_mm256_cvtsi256_si32(packed));
    const std::uint32_t hi = static_cast<std::uint32_t>(_mm256_extract_epi32(packed, 4));
    const std::uint64_t bytes = lo | (static_cast<std::uint64_t>(hi) << 32);
    if (count >= 8)  // little-endian; a constant size is one 8-byte store
        std::memcpy(a, &bytes, 8);
    else
        std::memcpy(a, &bytes, static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
}

// 8 bytes (count of them read, the rest 0) to 32-bit lanes.
__attribute__((target("avx2"))) inline __m256i load_bytes(const std::uint8_t* a, std::int64_t count) {
    std::uint64_t bytes = 0;
    std::memcpy(&bytes, a, static_cast<std::size_t>(std::min<std::int64_t>(count, 8)));
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(bytes)));
}

// Window by window (8 at a time) over all kh rows in registers, one store at the end: run row by row, each
// row after the first reloaded the maxima and offsets the previous row had just stored with vmaskmovps (a
// masked store a load cannot forward from) and stored them again. The same comparisons in the same order.
template <int KW, bool Arg>
__attribute__((target("avx2"))) void max_window_row_avx2(const float* xr, std::int64_t w, std::int64_t kh,
                                                         std::int64_t /*kw: KW*/, float* o, std::uint8_t* a,
                                                         std::int64_t ow) {
    // Column q: lane j reads element j * KW + q, which is lane (j * KW + q) % 8 of input vector (j * KW + q)
    // / 8.
    __m256i position[KW];
    __m256 from[KW][KW];  // from[q][s]: lanes of column q taken from input vector s (all-ones lanes)
    for (int q = 0; q < KW; ++q) {
        alignas(32) std::int32_t pos[8];
        for (int j = 0; j < 8; ++j) pos[j] = (j * KW + q) % 8;
        position[q] = _mm256_load_si256(reinterpret_cast<const __m256i*>(pos));
        for (int src = 0; src < KW; ++src) {
            alignas(32) std::int32_t sel[8];
            for (int j = 0; j < 8; ++j) sel[j] = (j * KW + q) / 8 == src ? -1 : 0;
            from[q][src] = _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sel)));
        }
    }
    const auto column = [&](const __m256* v, int q) __attribute__((target("avx2"))) {
        __m256 col = _mm256_permutevar8x32_ps(v[q / 8], position[q]);  // first source: vector q / 8
        for (int src = q / 8 + 1; src <= (7 * KW + q) / 8; ++src)
            col = _mm256_blendv_ps(col, _mm256_permutevar8x32_ps(v[src], position[q]), from[q][src]);
        return col;
    };
    for (std::int64_t j = 0; j < ow; j += 8) {
        // Windows [j, j + rem): lanes past them load zeros and are never stored.
        const std::int64_t rem = std::min<std::int64_t>(8, ow - j), elems = rem * KW;
        __m256 best = _mm256_setzero_ps();
        __m256i arg = _mm256_setzero_si256();
        for (std::int64_t r = 0; r < kh; ++r) {
            const float* src = xr + r * w + j * KW;
            __m256 v[KW];
            if (rem == 8) {
                for (int t = 0; t < KW; ++t) v[t] = _mm256_loadu_ps(src + 8 * t);
            } else {
                for (int t = 0; t < KW; ++t) v[t] = _mm256_maskload_ps(src + 8 * t, lanes_below8(elems - 8 * t));
            }
            if (r == 0) best = column(v, 0);
            for (int q = r == 0 ? 1 : 0; q < KW; ++q) {
                const __m256 col = column(v, q);
                const __m256 take =
                    _mm256_or_ps(_mm256_cmp_ps(col, best, _CMP_GT_OQ), _mm256_cmp_ps(col, col, _CMP_UNORD_Q));
                best = _mm256_blendv_ps(best, col, take);
                if constexpr (Arg)
                    arg = _mm256_castps_si256(_mm256_blendv_ps(
                        _mm256_castsi256_ps(arg),
                        _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(r * KW + q))), take));
            }
        }
        if (rem == 8)
            _mm256_storeu_ps(o + j, best);
        else
            _mm256_maskstore_ps(o + j, lanes_below8(rem), best);
        if constexpr (Arg) store_low_bytes(a + j, arg, rem);
    }
}

template <int KW>
__attribute__((target("avx2"))) void max_window_row_backward_avx2(const float* g, const std::uint8_t* a,
                                                                  std::int64_t ow, std::int64_t w,
                                                                  std::int64_t kh, std::int64_t /*kw: KW*/,
                                                                  float* xr) {
    // Output vector t of a step of 8 windows: lane l is element 8 t + l, window (8 t + l) / KW, column
    // (8 t + l) % KW.
    __m256i window[KW], column[KW];
    for (int t = 0; t < KW; ++t) {
        alignas(32) std::int32_t win[8], col[8];
        for (int l = 0; l < 8; ++l) win[l] = (8 * t + l) / KW, col[l] = (8 * t + l) % KW;
        window[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(win));
        column[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(col));
    }
    for (std::int64_t r = 0; r < kh; ++r) {
        float* out = xr + r * w;
        std::fill(out + ow * KW, out + w, 0.0f);  // columns past the last window
        const __m256i first = _mm256_set1_epi32(static_cast<int>(r * KW));
        for (std::int64_t j = 0; j < ow; j += 8) {
            const std::int64_t rem = std::min<std::int64_t>(8, ow - j), elems = rem * KW;
            const __m256 gv = _mm256_maskload_ps(g + j, lanes_below8(rem));
            const __m256i av = _mm256_sub_epi32(load_bytes(a + j, rem), first);
            for (int t = 0; t < KW; ++t) {
                const __m256 keep = _mm256_castsi256_ps(
                    _mm256_cmpeq_epi32(_mm256_permutevar8x32_epi32(av, window[t]), column[t]));
                const __m256 value = _mm256_and_ps(_mm256_permutevar8x32_ps(gv, window[t]), keep);
                if (elems >= 8 * (t + 1))
                    _mm256_storeu_ps(out + j * KW + 8 * t, value);
                else
                    _mm256_maskstore_ps(out + j * KW + 8 * t, lanes_below8(elems - 8 * t), value);
            }
        }
    }
}

#endif

// The widths of the presets' pools get their own instantiation (KW = 2, 3, 4, 5, 8); others take the generic
// loop (KW = 0). `make` maps std::integral_constant<int, KW> to the kernel of that width.
template <class Make>
auto for_pool_width(std::int64_t kw, Make make) {
    switch (kw) {
        case 2: return make(std::integral_constant<int, 2>{});
        case 3: return make(std::integral_constant<int, 3>{});
        case 4: return make(std::integral_constant<int, 4>{});
        case 5: return make(std::integral_constant<int, 5>{});
        case 8: return make(std::integral_constant<int, 8>{});
        default: return make(std::integral_constant<int, 0>{});
    }
}

WindowRowBackward window_row_backward(std::int64_t kw) {
#ifdef MTAG_HAVE_AVX512_POOL
    if (cpu_has_avx512bw_vl()) {
        const WindowRowBackward fast = for_pool_width(kw, [](auto k) -> WindowRowBackward {
            if constexpr (k.value == 0) return nullptr;  // no AVX-512 form of the generic loop
            else return max_window_row_backward_avx512<k.value>;
        });
        if (fast) return fast;
    }
    if (cpu_has_avx2()) {
        const WindowRowBackward fast = for_pool_width(kw, [](auto k) -> WindowRowBackward {
            if constexpr (k.value == 0)
                return nullptr;
            else
                return max_window_row_backward_avx2<k.value>;
        });
        if (fast) return fast;
    }
#endif
    return for_pool_width(kw, [](auto k) -> WindowRowBackward { return max_window_row_backward<k.value>; });
}

// The forward row kernel for width kw; with record_argmax false, one that keeps no offsets (a is null).
WindowRowKernel window_row_kernel(std::int64_t kw, bool record_argmax) {
    const auto pick = [&](auto make) -> WindowRowKernel {
        return for_pool_width(kw, [&](auto k) -> WindowRowKernel {
            return record_argmax ? make(k, std::true_type{}) : make(k, std::false_type{});
        });
    };
#ifdef MTAG_HAVE_AVX512_POOL
    if (cpu_has_avx512bw_vl()) {
        const WindowRowKernel fast = pick([](auto k, auto arg) -> WindowRowKernel {
            if constexpr (k.value == 0) return nullptr;  // no AVX-512 form of the generic loop
            else return max_window_row_avx512<k.value, arg.value>;
        });
        if (fast) return fast;
    }
    if (cpu_has_avx2()) {
        const WindowRowKernel fast = pick([](auto k, auto arg) -> WindowRowKernel {
            if constexpr (k.value == 0)
                return nullptr;
            else
                return max_window_row_avx2<k.value, arg.value>;
        });
        if (fast) return fast;
    }
#endif
    return pick([](auto k, auto arg) -> WindowRowKernel { return max_window_row<k.value, arg.value>; });
}

}  // namespace

std::int64_t pool_output_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p,
                              bool ceil_mode) {
    const std::int64_t num = in + 2 * p - (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    // With ceil_mode the last window must start inside the input or the left padding.
    if (ceil_mode && (out - 1) * s >= in + p) --out;
    return out;
}

PoolBase::PoolBase(std::string type, Kind kind, Sizing sizing, int rank, std::array<std::int64_t, 2> kernel,
                   std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding, bool ceil_mode)
    : m_type(std::move(type)),
      m_kind(kind),
      m_sizing(sizing),
      m_rank(rank),
      m_kernel(kernel),
      m_stride(stride),
      m_padding(padding),
      m_ceil_mode(ceil_mode) {
    const std::string where = "nn::" + m_type + " options";
    for (std::size_t a = 0; a < 2; ++a) {
        if (m_kernel[a] < 1)
            throw Error(where, (sizing == Sizing::adaptive ? "output_size = " : "kernel_size = ") +
                                   std::to_string(m_kernel[a]) + ", expected >= 1");
        if (m_stride[a] == 0) m_stride[a] = m_kernel[a];
        if (m_stride[a] < 1)
            throw Error(where, "stride = " + std::to_string(m_stride[a]) + ", expected >= 1");
        if (m_padding[a] < 0 || m_padding[a] > m_kernel[a] / 2)
            throw Error(where,
                        "padding = " + std::to_string(m_padding[a]) +
                            ", expected between 0 and kernel_size/2 = " + std::to_string(m_kernel[a] / 2));
    }
}

PoolBase::Axis PoolBase::make_axis(std::int64_t in, int a) const {
    Axis axis;
    const auto ua = static_cast<std::size_t>(a);
    std::int64_t out;
    if (m_sizing == Sizing::adaptive) {
        out = m_kernel[ua];
        for (std::int64_t o = 0; o < out; ++o) {
            const std::int64_t b = o * in / out, e = ((o + 1) * in + out - 1) / out;
            axis.begin.push_back(b);
            axis.end.push_back(e);
            axis.span.push_back(e - b);
        }
        return axis;
    }
    const std::int64_t k = m_kernel[ua], s = m_stride[ua], p = m_padding[ua];
    out = pool_output_size(in, k, s, p, m_ceil_mode);
    if (out < 1)
        throw Error("nn::" + m_type,
                    "input size " + std::to_string(in) + " is smaller than kernel " + std::to_string(k));
    for (std::int64_t o = 0; o < out; ++o) {
        const std::int64_t start = o * s - p;
        const std::int64_t stop = std::min(start + k, in + p);  // padded window used for the average divisor
        axis.span.push_back(stop - start);
        axis.begin.push_back(std::max<std::int64_t>(start, 0));
        axis.end.push_back(std::min(stop, in));
    }
    return axis;
}

Tensor PoolBase::forward(const Tensor& input) {
    if (input.rank() != m_rank + 2)
        throw Error("nn::" + m_type, "input shape " + input.shape().str() + ", expected " +
                                         (m_rank == 2 ? "(N, C, H, W)" : "(N, C, L)"));
    if (m_kind == Kind::max && switches_frozen()) return forward_frozen(input);
    const std::int64_t n = input.dim(0), c = input.dim(1);
    const std::int64_t h = m_rank == 2 ? input.dim(2) : 1, w = input.dim(m_rank == 2 ? 3 : 2);
    if (!(input.shape() == m_input_shape)) {
        m_rows = m_rank == 2 ? make_axis(h, 0) : Axis{{0}, {1}, {1}};
        m_cols = make_axis(w, 1);
        m_input_shape = input.shape();
        std::int64_t rows = 0, cols = 0;
        for (std::size_t i = 0; i < m_rows.begin.size(); ++i) rows = std::max(rows, m_rows.end[i] - m_rows.begin[i]);
        for (std::size_t j = 0; j < m_cols.begin.size(); ++j) cols = std::max(cols, m_cols.end[j] - m_cols.begin[j]);
        m_local_argmax = rows * cols <= 256;
    }
    const auto oh = static_cast<std::int64_t>(m_rows.begin.size()),
               ow = static_cast<std::int64_t>(m_cols.begin.size());
    Tensor y = output_buffer(m_output, m_rank == 2 ? Shape{n, c, oh, ow} : Shape{n, c, ow});
    const bool is_max = m_kind == Kind::max, local = m_local_argmax;
    // Non-overlapping full windows (every max pool of the presets): window offsets are fixed.
    const std::int64_t kh = m_rank == 2 ? m_kernel[0] : 1, kw = m_kernel[1];
    m_full_windows = is_max && local && m_sizing == Sizing::fixed && m_stride == m_kernel && m_padding[0] == 0 &&
                     m_padding[1] == 0 && oh * kh <= h && ow * kw <= w;
    // Inference mode keeps no argmax on the full-window path (no backward follows): the kernel then only
    // computes maxima, and nothing is written beside them.
    const bool record = is_max && !(m_full_windows && inference_mode());
    const auto count = static_cast<std::size_t>(n * c * oh * ow);
    if (record && local) {
        m_argmax_local.resize(count);
        m_argmax = {};
    } else if (record) {
        m_argmax.resize(count);
        m_argmax_local = {};
    } else {
        m_argmax = {};
        m_argmax_local = {};
    }
    if (m_full_windows) {
        const float* x = input.data();
        float* out = y.data();
        std::uint8_t* arg = record ? m_argmax_local.data() : nullptr;
        const WindowRowKernel row_kernel = window_row_kernel(kw, record);
        parallel_for(n * c, std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(1, h * w)),
                     [=](std::int64_t p0, std::int64_t p1) {
                         for (std::int64_t p = p0; p < p1; ++p)
                             for (std::int64_t i = 0; i < oh; ++i)
                                 row_kernel(x + p * h * w + i * kh * w, w, kh, kw, out + (p * oh + i) * ow,
                                            arg ? arg + (p * oh + i) * ow : nullptr, ow);
                     });
        return y;
    }
    general_forward(input, y, n * c, h, w);
    return y;
}

Tensor PoolBase::forward_frozen(const Tensor& input) {
    if (m_input_shape.rank() && m_argmax.empty() && m_argmax_local.empty())
        throw Error("nn::" + m_type + " with frozen switches",
                    "the last forward pass ran in inference mode and recorded no argmax; run one outside "
                    "nn::InferenceMode before freezing");
    if (!(input.shape() == m_input_shape) || (m_argmax.empty() && m_argmax_local.empty()))
        throw Error("nn::" + m_type + " with frozen switches",
                    "input shape " + input.shape().str() + ", but the argmax was recorded for " +
                        (m_input_shape.rank() ? m_input_shape.str() : std::string("no forward pass yet")));
    const std::int64_t n = input.dim(0), c = input.dim(1);
    const std::int64_t h = m_rank == 2 ? input.dim(2) : 1, w = input.dim(m_rank == 2 ? 3 : 2);
    const auto oh = static_cast<std::int64_t>(m_rows.begin.size()),
               ow = static_cast<std::int64_t>(m_cols.begin.size());
    Tensor y = Tensor::uninitialized(m_rank == 2 ? Shape{n, c, oh, ow} : Shape{n, c, ow});
    for (std::int64_t p = 0; p < n * c; ++p) {
        const float* x = input.data() + p * h * w;
        float* out = y.data() + p * oh * ow;
        for (std::int64_t i = 0; i < oh; ++i)
            for (std::int64_t j = 0; j < ow; ++j) {
                const std::int64_t k = p * oh * ow + i * ow + j;
                if (!m_local_argmax) {
                    out[i * ow + j] = x[m_argmax[static_cast<std::size_t>(k)]];
                    continue;
                }
                // The byte offset is row-major over the clipped window (both forward kernels agree on it).
                const std::int64_t r0 = m_rows.begin[static_cast<std::size_t>(i)],
                                   c0 = m_cols.begin[static_cast<std::size_t>(j)],
                                   cw = m_cols.end[static_cast<std::size_t>(j)] - c0;
                const std::int64_t a = m_argmax_local[static_cast<std::size_t>(k)], dr = a / cw;
                out[i * ow + j] = x[(r0 + dr) * w + c0 + (a - dr * cw)];
            }
    }
    return y;
}

void PoolBase::general_forward(const Tensor& input, Tensor& y, std::int64_t planes, std::int64_t h,
                               std::int64_t w) {
    const auto oh = static_cast<std::int64_t>(m_rows.begin.size()),
               ow = static_cast<std::int64_t>(m_cols.begin.size());
    const bool is_max = m_kind == Kind::max, local = m_local_argmax;
    parallel_for(planes, std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(1, h * w)),
                 [&](std::int64_t p0, std::int64_t p1) {
                     for (std::int64_t p = p0; p < p1; ++p) {
                         const float* x = input.data() + p * h * w;
                         float* out = y.data() + p * oh * ow;
                         std::int32_t* arg = is_max && !local ? m_argmax.data() + p * oh * ow : nullptr;
                         std::uint8_t* arg8 = is_max && local ? m_argmax_local.data() + p * oh * ow : nullptr;
                         for (std::int64_t i = 0; i < oh; ++i) {
                             const std::int64_t r0 = m_rows.begin[static_cast<std::size_t>(i)],
                                                r1 = m_rows.end[static_cast<std::size_t>(i)];
                             for (std::int64_t j = 0; j < ow; ++j) {
                                 const std::int64_t c0 = m_cols.begin[static_cast<std::size_t>(j)],
                                                    c1 = m_cols.end[static_cast<std::size_t>(j)];
                                 if (is_max) {
                                     // Pass 1: branch-free maximum (random data would mispredict a
                                     // compare-and-branch on every element). Pass 2: the first position
                                     // holding it. A NaN anywhere takes the exact PyTorch rule (val > max ||
                                     // isnan(val)) instead.
                                     float best = -std::numeric_limits<float>::infinity();
                                     bool nan = false;
                                     for (std::int64_t r = r0; r < r1; ++r) {
                                         const float* row = x + r * w;
                                         for (std::int64_t q = c0; q < c1; ++q) {
                                             best = std::max(best, row[q]);
                                             nan |= row[q] != row[q];
                                         }
                                     }
                                     std::int64_t where = r0 * w + c0;
                                     if (nan) {
                                         best = -std::numeric_limits<float>::infinity();
                                         for (std::int64_t r = r0; r < r1; ++r)
                                             for (std::int64_t q = c0; q < c1; ++q)
                                                 if (const float v = x[r * w + q]; v > best || v != v) {
                                                     best = v;
                                                     where = r * w + q;
                                                 }
                                     } else {
                                         for (std::int64_t r = r0; r < r1; ++r)
                                             for (std::int64_t q = c0; q < c1; ++q)
                                                 if (x[r * w + q] == best) {
                                                     where = r * w + q;
                                                     goto found;
                                                 }
                                     found:;
                                     }
                                     out[i * ow + j] = best;
                                     if (local) {
                                         const std::int64_t wr = where / w, wq = where - wr * w;
                                         arg8[i * ow + j] =
                                             static_cast<std::uint8_t>((wr - r0) * (c1 - c0) + (wq - c0));
                                     } else {
                                         arg[i * ow + j] = static_cast<std::int32_t>(where);
                                     }
                                 } else {
                                     float s = 0.0f;
                                     for (std::int64_t r = r0; r < r1; ++r)
                                         for (std::int64_t q = c0; q < c1; ++q) s += x[r * w + q];
                                     out[i * ow + j] =
                                         s / static_cast<float>(m_rows.span[static_cast<std::size_t>(i)] *
                                                                m_cols.span[static_cast<std::size_t>(j)]);
                                 }
                             }
                         }
                     }
                 });
}

Tensor PoolBase::backward(const Tensor& gy) {
    if (m_input_shape.rank() == 0) throw Error("nn::" + m_type, "backward() called before forward()");
    const std::int64_t n = m_input_shape[0], c = m_input_shape[1];
    const std::int64_t h = m_rank == 2 ? m_input_shape[2] : 1, w = m_input_shape[m_rank == 2 ? 3 : 2];
    const auto oh = static_cast<std::int64_t>(m_rows.begin.size()),
               ow = static_cast<std::int64_t>(m_cols.begin.size());
    if (static_cast<std::int64_t>(gy.size()) != n * c * oh * ow || gy.dim(0) != n || gy.dim(1) != c)
        throw Error("nn::" + m_type + "::backward",
                    "grad_output shape " + gy.shape().str() + " does not match the last output");
    if (m_kind == Kind::max && m_argmax.empty() && m_argmax_local.empty())
        throw Error("nn::" + m_type, nothing_saved_message);
    if (!input_grad()) return {};
    if (m_full_windows) {
        // Every input element is written once (the selected one gets the gradient, the others and the
        // rows/columns no window covers get 0), so no zero-fill pass and no division per element.
        const std::int64_t kh = m_rank == 2 ? m_kernel[0] : 1, kw = m_kernel[1];
        Tensor gx = Tensor::uninitialized(m_input_shape);
        const float* g = gy.data();
        const std::uint8_t* arg = m_argmax_local.data();
        float* out = gx.data();
        const WindowRowBackward row_kernel = window_row_backward(kw);
        parallel_for(n * c, std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(1, h * w)),
                     [=](std::int64_t p0, std::int64_t p1) {
                         for (std::int64_t p = p0; p < p1; ++p) {
                             float* plane = out + p * h * w;
                             for (std::int64_t i = 0; i < oh; ++i)
                                 row_kernel(g + (p * oh + i) * ow, arg + (p * oh + i) * ow, ow, w, kh, kw,
                                            plane + i * kh * w);
                             std::fill(plane + oh * kh * w, plane + h * w, 0.0f);
                         }
                     });
        return gx;
    }
    Tensor gx(m_input_shape);
    const bool is_max = m_kind == Kind::max, local = m_local_argmax;
    parallel_for(n * c, std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(1, h * w)),
                 [&](std::int64_t p0, std::int64_t p1) {
                     for (std::int64_t p = p0; p < p1; ++p) {
                         const float* g = gy.data() + p * oh * ow;
                         float* out = gx.data() + p * h * w;
                         if (is_max && local) {
                             const std::uint8_t* arg8 = m_argmax_local.data() + p * oh * ow;
                             for (std::int64_t i = 0; i < oh; ++i) {
                                 const std::int64_t r0 = m_rows.begin[static_cast<std::size_t>(i)];
                                 for (std::int64_t j = 0; j < ow; ++j) {
                                     const std::int64_t c0 = m_cols.begin[static_cast<std::size_t>(j)],
                                                        cw = m_cols.end[static_cast<std::size_t>(j)] - c0;
                                     const std::int64_t a = arg8[i * ow + j], dr = a / cw;
                                     out[(r0 + dr) * w + c0 + (a - dr * cw)] += g[i * ow + j];
                                 }
                             }
                             continue;
                         }
                         if (is_max) {
                             const std::int32_t* arg = m_argmax.data() + p * oh * ow;
                             for (std::int64_t k = 0; k < oh * ow; ++k) out[arg[k]] += g[k];
                             continue;
                         }
                         for (std::int64_t i = 0; i < oh; ++i) {
                             const std::int64_t r0 = m_rows.begin[static_cast<std::size_t>(i)],
                                                r1 = m_rows.end[static_cast<std::size_t>(i)];
                             for (std::int64_t j = 0; j < ow; ++j) {
                                 const std::int64_t c0 = m_cols.begin[static_cast<std::size_t>(j)],
                                                    c1 = m_cols.end[static_cast<std::size_t>(j)];
                                 const float v = g[i * ow + j] /
                                                 static_cast<float>(m_rows.span[static_cast<std::size_t>(i)] *
                                                                    m_cols.span[static_cast<std::size_t>(j)]);
                                 for (std::int64_t r = r0; r < r1; ++r)
                                     for (std::int64_t q = c0; q < c1; ++q) out[r * w + q] += v;
                             }
                         }
                     }
                 });
    return gx;
}

nlohmann::json PoolBase::config() const {
    nlohmann::json j{{"type", m_type}};
    auto pick = [&](const std::array<std::int64_t, 2>& v) -> nlohmann::json {
        return m_rank == 2 ? nlohmann::json(v) : nlohmann::json(v[1]);
    };
    if (m_sizing == Sizing::adaptive) {
        j["output_size"] = pick(m_kernel);
    } else {
        j["kernel_size"] = pick(m_kernel);
        j["stride"] = pick(m_stride);
        j["padding"] = pick(m_padding);
        j["ceil_mode"] = m_ceil_mode;
    }
    return j;
}

MaxPool2d::MaxPool2d(const Pool2dOptions& o)
    : PoolBase("MaxPool2d", Kind::max, Sizing::fixed, 2, o.kernel_size, o.stride, o.padding, o.ceil_mode) {}
AvgPool2d::AvgPool2d(const Pool2dOptions& o)
    : PoolBase("AvgPool2d", Kind::avg, Sizing::fixed, 2, o.kernel_size, o.stride, o.padding, o.ceil_mode) {}
MaxPool1d::MaxPool1d(const Pool1dOptions& o)
    : PoolBase("MaxPool1d", Kind::max, Sizing::fixed, 1, {1, o.kernel_size}, {1, o.stride}, {0, o.padding},
               o.ceil_mode) {}
AvgPool1d::AvgPool1d(const Pool1dOptions& o)
    : PoolBase("AvgPool1d", Kind::avg, Sizing::fixed, 1, {1, o.kernel_size}, {1, o.stride}, {0, o.padding},
               o.ceil_mode) {}
AdaptiveAvgPool2d::AdaptiveAvgPool2d(std::int64_t out_h, std::int64_t out_w)
    : PoolBase("AdaptiveAvgPool2d", Kind::avg, Sizing::adaptive, 2, {out_h, out_w}, {1, 1}, {0, 0}, false) {}
AdaptiveMaxPool2d::AdaptiveMaxPool2d(std::int64_t out_h, std::int64_t out_w)
    : PoolBase("AdaptiveMaxPool2d", Kind::max, Sizing::adaptive, 2, {out_h, out_w}, {1, 1}, {0, 0}, false) {}
AdaptiveAvgPool1d::AdaptiveAvgPool1d(std::int64_t out_l)
    : PoolBase("AdaptiveAvgPool1d", Kind::avg, Sizing::adaptive, 1, {1, out_l}, {1, 1}, {0, 0}, false) {}
AdaptiveMaxPool1d::AdaptiveMaxPool1d(std::int64_t out_l)
    : PoolBase("AdaptiveMaxPool1d", Kind::max, Sizing::adaptive, 1, {1, out_l}, {1, 1}, {0, 0}, false) {}

}  // namespace mtag::nn
