#include "nn/layers/activation.hpp"

#include "dsp/error.hpp"
#include "nn/cpu_features.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"
#include "nn/vector_math.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

namespace mtag::nn {

namespace {

// ELU, SELU, Sigmoid, Tanh, HardSigmoid differentiate through their output (m_cache); ReLU kinds use a mask.
bool kind_needs_output(Activation::Kind kind) {
    return kind != Activation::Kind::relu && kind != Activation::Kind::leaky_relu;
}

constexpr std::int64_t k_activation_grain = 1 << 15;

// (Leaky) ReLU over n elements: out = x <= 0 ? slope * x : x (slope 0 gives +0 exactly; NaN passes through,
// as torch.relu's clamp does), and bit i of the mask = x[i] > 0 (PyTorch's backward: a NaN gets no gradient).
// x and out may alias (inplace). The portable loops, the AVX-512 and the AVX2 ones produce identical bits.
void rectify_forward_portable(const float* x, float* out, std::uint8_t* mask, std::int64_t n, float slope) {
    for (std::int64_t k = 0; k * 8 < n; ++k) {
        unsigned bits = 0;
        const std::int64_t end = std::min<std::int64_t>(8, n - k * 8);
        for (std::int64_t t = 0; t < end; ++t) {
            const float v = x[k * 8 + t];  // read before the write: x and out may alias
            bits |= static_cast<unsigned>(v > 0.0f) << t;
            out[k * 8 + t] = v <= 0.0f ? (slope == 0.0f ? 0.0f : slope * v) : v;
        }
        mask[k] = static_cast<std::uint8_t>(bits);
    }
}

void rectify_backward_portable(const float* g, const std::uint8_t* mask, float* out, std::int64_t n,
                               float slope) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = (mask[i >> 3] >> (i & 7)) & 1u ? g[i] : (slope == 0.0f ? 0.0f : slope * g[i]);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define MTAG_HAVE_AVX512_RECTIFY 1

__attribute__((target("avx512f"))) void rectify_forward_avx512(const float* x, float* out, std::uint8_t* mask,
                                                               std::int64_t n, float slope) {
    const __m512 zero = _mm512_setzero_ps(), s = _mm512_set1_ps(slope);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
        const __mmask16 non_positive = _mm512_cmp_ps_mask(v, zero, _CMP_LE_OQ);
        const __m512 neg = slope == 0.0f ? zero : _mm512_mul_ps(s, v);
        _mm512_storeu_ps(out + i, _mm512_mask_blend_ps(non_positive, v, neg));
        const auto bits = static_cast<std::uint16_t>(pos);
        std::memcpy(mask + i / 8, &bits, 2);  // little-endian: bit i % 8 of byte i / 8
    }
    if (i < n) rectify_forward_portable(x + i, out + i, mask + i / 8, n - i, slope);
}

__attribute__((target("avx512f"))) void rectify_backward_avx512(const float* g, const std::uint8_t* mask,
                                                                float* out, std::int64_t n, float slope) {
    const __m512 zero = _mm512_setzero_ps(), s = _mm512_set1_ps(slope);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        std::uint16_t bits;
        std::memcpy(&bits, mask + i / 8, 2);
        const __m512 v = _mm512_loadu_ps(g + i);
        const __m512 neg = slope == 0.0f ? zero : _mm512_mul_ps(s, v);
        _mm512_storeu_ps(out + i, _mm512_mask_blend_ps(static_cast<__mmask16>(bits), neg, v));
    }
    if (i < n) rectify_backward_portable(g + i, mask + i / 8, out + i, n - i, slope);
}

// The AVX2 forms (CPUs without AVX-512): 8 lanes, one mask byte per vector, the same bits.
__attribute__((target("avx2"))) void rectify_forward_avx2(const float* x, float* out, std::uint8_t* mask,
                                                          std::int64_t n, float slope) {
    const __m256 zero = _mm256_setzero_ps(), s = _mm256_set1_ps(slope);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 non_positive = _mm256_cmp_ps(v, zero, _CMP_LE_OQ);
        const __m256 neg = slope == 0.0f ? zero : _mm256_mul_ps(s, v);
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(v, neg, non_positive));
        mask[i / 8] = static_cast<std::uint8_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ)));
    }
    if (i < n) rectify_forward_portable(x + i, out + i, mask + i / 8, n - i, slope);
}

__attribute__((target("avx2"))) void rectify_backward_avx2(const float* g, const std::uint8_t* mask,
                                                           float* out, std::int64_t n, float slope) {
    const __m256 zero = _mm256_setzero_ps(), s = _mm256_set1_ps(slope);
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i bits = _mm256_and_si256(_mm256_set1_epi32(mask[i / 8]), lane_bit);
        const __m256 keep = _mm256_castsi256_ps(_mm256_cmpeq_epi32(bits, lane_bit));
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 neg = slope == 0.0f ? zero : _mm256_mul_ps(s, v);
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(neg, v, keep));
    }
    if (i < n) rectify_backward_portable(g + i, mask + i / 8, out + i, n - i, slope);
}

#endif

void rectify_forward(const float* x, float* out, std::uint8_t* mask, std::int64_t n, float slope) {
#ifdef MTAG_HAVE_AVX512_RECTIFY
    if (cpu_has_avx512f()) return rectify_forward_avx512(x, out, mask, n, slope);
    if (cpu_has_avx2()) return rectify_forward_avx2(x, out, mask, n, slope);
#endif
    rectify_forward_portable(x, out, mask, n, slope);
}

void rectify_backward(const float* g, const std::uint8_t* mask, float* out, std::int64_t n, float slope) {
#ifdef MTAG_HAVE_AVX512_RECTIFY
    if (cpu_has_avx512f()) return rectify_backward_avx512(g, mask, out, n, slope);
    if (cpu_has_avx2()) return rectify_backward_avx2(g, mask, out, n, slope);
#endif
    rectify_backward_portable(g, mask, out, n, slope);
}

// ELU and SELU over n elements: forward out = x > 0 ? scale * x : scale_alpha * expm1(x) (ELU: scale 1,
// scale_alpha = alpha; SELU: its scale and scale * alpha), backward from the output y:
// out = y > 0 ? scale * g : g * (y + scale_alpha). A NaN x gives NaN (x > 0 is false, expm1(NaN) is NaN).
// x and out may alias (inplace). The portable loops, the AVX-512 and the AVX2 ones produce identical bits
// (expm1_fast, nn/vector_math.hpp, is the same operations in both).
void elu_forward_portable(const float* x, float* out, std::int64_t n, float scale, float scale_alpha) {
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        out[i] = v > 0.0f ? scale * v : scale_alpha * expm1_fast(v);
    }
}

void elu_backward_portable(const float* y, const float* g, float* out, std::int64_t n, float scale,
                           float scale_alpha) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = y[i] > 0.0f ? scale * g[i] : g[i] * (y[i] + scale_alpha);
}

#ifdef MTAG_HAVE_AVX512_RECTIFY

__attribute__((target("avx512f"))) void elu_forward_avx512(const float* x, float* out, std::int64_t n, float scale,
                                                           float scale_alpha) {
    const __m512 zero = _mm512_setzero_ps(), s = _mm512_set1_ps(scale), sa = _mm512_set1_ps(scale_alpha);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
        const __m512 neg = _mm512_mul_ps(sa, expm1_fast(v));
        _mm512_storeu_ps(out + i, _mm512_mask_blend_ps(pos, neg, _mm512_mul_ps(s, v)));
    }
    if (i < n) elu_forward_portable(x + i, out + i, n - i, scale, scale_alpha);
}

__attribute__((target("avx512f"))) void elu_backward_avx512(const float* y, const float* g, float* out, std::int64_t n,
                                                            float scale, float scale_alpha) {
    const __m512 zero = _mm512_setzero_ps(), s = _mm512_set1_ps(scale), sa = _mm512_set1_ps(scale_alpha);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 vy = _mm512_loadu_ps(y + i), vg = _mm512_loadu_ps(g + i);
        const __mmask16 pos = _mm512_cmp_ps_mask(vy, zero, _CMP_GT_OQ);
        const __m512 neg = _mm512_mul_ps(vg, _mm512_add_ps(vy, sa));
        _mm512_storeu_ps(out + i, _mm512_mask_blend_ps(pos, neg, _mm512_mul_ps(s, vg)));
    }
    if (i < n) elu_backward_portable(y + i, g + i, out + i, n - i, scale, scale_alpha);
}

__attribute__((target("avx2,fma"))) void elu_forward_avx2(const float* x, float* out, std::int64_t n,
                                                          float scale, float scale_alpha) {
    const __m256 zero = _mm256_setzero_ps(), s = _mm256_set1_ps(scale), sa = _mm256_set1_ps(scale_alpha);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 pos = _mm256_cmp_ps(v, zero, _CMP_GT_OQ);
        const __m256 neg = _mm256_mul_ps(sa, expm1_fast(v));
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(neg, _mm256_mul_ps(s, v), pos));
    }
    if (i < n) elu_forward_portable(x + i, out + i, n - i, scale, scale_alpha);
}

__attribute__((target("avx2"))) void elu_backward_avx2(const float* y, const float* g, float* out,
                                                       std::int64_t n, float scale, float scale_alpha) {
    const __m256 zero = _mm256_setzero_ps(), s = _mm256_set1_ps(scale), sa = _mm256_set1_ps(scale_alpha);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vy = _mm256_loadu_ps(y + i), vg = _mm256_loadu_ps(g + i);
        const __m256 pos = _mm256_cmp_ps(vy, zero, _CMP_GT_OQ);
        const __m256 neg = _mm256_mul_ps(vg, _mm256_add_ps(vy, sa));
        _mm256_storeu_ps(out + i, _mm256_blendv_ps(neg, _mm256_mul_ps(s, vg), pos));
    }
    if (i < n) elu_backward_portable(y + i, g + i, out + i, n - i, scale, scale_alpha);
}

#endif

void elu_forward(const float* x, float* out, std::int64_t n, float scale, float scale_alpha) {
#ifdef MTAG_HAVE_AVX512_RECTIFY
    if (cpu_has_avx512f()) return elu_forward_avx512(x, out, n, scale, scale_alpha);
    if (cpu_has_avx2() && cpu_has_fma()) return elu_forward_avx2(x, out, n, scale, scale_alpha);
#endif
    elu_forward_portable(x, out, n, scale, scale_alpha);
}

void elu_backward(const float* y, const float* g, float* out, std::int64_t n, float scale, float scale_alpha) {
#ifdef MTAG_HAVE_AVX512_RECTIFY
    if (cpu_has_avx512f()) return elu_backward_avx512(y, g, out, n, scale, scale_alpha);
    if (cpu_has_avx2()) return elu_backward_avx2(y, g, out, n, scale, scale_alpha);
#endif
    elu_backward_portable(y, g, out, n, scale, scale_alpha);
}

// Frozen switches (nn/switching.hpp): out = x where the recorded mask bit is set, slope * x elsewhere.
void rectify_frozen(const float* x, float* out, const std::uint8_t* mask, std::int64_t n, float slope) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = (mask[i >> 3] >> (i & 7)) & 1u ? x[i] : (slope == 0.0f ? 0.0f : slope * x[i]);
}

bool is_rectifier(Activation::Kind kind) {
    return kind == Activation::Kind::relu || kind == Activation::Kind::leaky_relu;
}

// The negative slope of a rectifier kind (0 for ReLU).
float rectifier_slope(Activation::Kind kind, float alpha) {
    return kind == Activation::Kind::leaky_relu ? alpha : 0.0f;
}

// ELU and SELU as one kernel: scale * x above 0, scale_alpha * expm1(x) below.
struct EluScales {
    float scale, scale_alpha;
};
EluScales elu_scales(Activation::Kind kind, float alpha) {
    if (kind == Activation::Kind::selu)
        return {static_cast<float>(SELU::scale), static_cast<float>(SELU::scale * SELU::alpha)};
    return {1.0f, alpha};
}

}  // namespace

Activation::Activation(Kind kind, float alpha, bool inplace)
    : m_kind(kind), m_alpha(alpha), m_inplace(inplace) {
    if (kind == Kind::leaky_relu && !(alpha >= 0.0f))
        throw Error("nn::LeakyReLU options", "negative_slope = " + std::to_string(alpha) + ", expected >= 0");
    if (kind == Kind::elu && !(alpha > 0.0f))
        throw Error("nn::ELU options", "alpha = " + std::to_string(alpha) + ", expected > 0");
    if (kind == Kind::hard_sigmoid && !(alpha > 0.0f))
        throw Error("nn::HardSigmoid options", "slope = " + std::to_string(alpha) + ", expected > 0");
}

std::string Activation::type() const {
    switch (m_kind) {
        case Kind::relu:
            return "ReLU";
        case Kind::leaky_relu:
            return "LeakyReLU";
        case Kind::elu:
            return "ELU";
        case Kind::selu:
            return "SELU";
        case Kind::sigmoid:
            return "Sigmoid";
        case Kind::tanh:
            return "Tanh";
        case Kind::hard_sigmoid:
            return "HardSigmoid";
    }
    return "Activation";
}

nlohmann::json Activation::config() const {
    nlohmann::json j{{"type", type()}};
    if (m_kind == Kind::leaky_relu) j["negative_slope"] = m_alpha;
    if (m_kind == Kind::elu) j["alpha"] = m_alpha;
    if (m_kind == Kind::hard_sigmoid) j["slope"] = m_alpha;
    if (m_kind == Kind::relu || m_kind == Kind::leaky_relu || m_kind == Kind::elu || m_kind == Kind::selu)
        j["inplace"] = m_inplace;
    return j;
}

Tensor Activation::forward(const Tensor& input) {
    Tensor y = m_inplace ? input : output_buffer(m_output, input.shape());
    const float* x = input.data();
    float* out = y.data();
    const float a = m_alpha;
    const Kind kind = m_kind;
    const bool masked = is_rectifier(kind);
    if (masked && switches_frozen()) return forward_frozen(input, y);
    m_shape = input.shape();
    m_has_forward = true;
    const auto count = static_cast<std::int64_t>(input.size());
    if (masked) {
        // One bit per element (bit i % 8 of byte i / 8); threads own whole 16-element groups.
        m_mask.resize(static_cast<std::size_t>((count + 15) / 16 * 2));
        parallel_for((count + 15) / 16, k_activation_grain / 16, [&](std::int64_t b, std::int64_t e) {
            forward_span(x, out, b * 16, std::min(count, e * 16) - b * 16);
        });
        m_cache = Tensor();
        return y;
    }
    parallel_for(count, k_activation_grain, [&](std::int64_t b, std::int64_t e) {
        switch (kind) {
            case Kind::relu:
            case Kind::leaky_relu:
                break;  // above
            case Kind::elu:
            case Kind::selu:
                forward_span(x, out, b, e - b);
                break;
            case Kind::sigmoid:
                for (std::int64_t i = b; i < e; ++i) out[i] = 1.0f / (1.0f + std::exp(-x[i]));
                break;
            case Kind::tanh:
                for (std::int64_t i = b; i < e; ++i) out[i] = std::tanh(x[i]);
                break;
            case Kind::hard_sigmoid:
                for (std::int64_t i = b; i < e; ++i) out[i] = std::clamp(a * x[i] + 0.5f, 0.0f, 1.0f);
                break;
        }
    });
    m_cache = saved_for_backward(y);  // the output: backward's derivative is a function of it
    return y;
}

Tensor Activation::forward_frozen(const Tensor& input, Tensor& y) {
    if (!m_has_forward || !(input.shape() == m_shape))
        throw Error("nn::" + type() + " with frozen switches",
                    "input shape " + input.shape().str() + ", but the mask was recorded for " +
                        (m_has_forward ? m_shape.str() : std::string("no forward pass yet")));
    const float* x = input.data();
    float* out = y.data();
    const std::uint8_t* mask = m_mask.data();
    const auto count = static_cast<std::int64_t>(input.size());
    const float slope = rectifier_slope(m_kind, m_alpha);
    parallel_for((count + 15) / 16, k_activation_grain / 16, [=](std::int64_t b, std::int64_t e) {
        rectify_frozen(x + b * 16, out + b * 16, mask + b * 2, std::min(count, e * 16) - b * 16, slope);
    });
    return y;
}

Tensor Activation::backward(const Tensor& gy) {
    if (!m_has_forward) throw Error("nn::" + type(), "backward() called before forward()");
    if (!(gy.shape() == m_shape))
        throw Error("nn::" + type() + "::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_shape.str());
    if (!input_grad()) return {};
    if (kind_needs_output(m_kind) && !m_cache.defined()) throw Error("nn::" + type(), nothing_saved_message);
    Tensor gx = gradient_buffer(gy);
    const float* y = m_cache.data();
    const std::uint8_t* mask = m_mask.data();
    const float* g = gy.data();
    float* out = gx.data();
    const float a = m_alpha;
    const Kind kind = m_kind;
    if (is_rectifier(kind)) {
        const auto count = static_cast<std::int64_t>(gy.size());
        const float slope = rectifier_slope(kind, a);
        parallel_for((count + 15) / 16, k_activation_grain / 16, [=](std::int64_t b, std::int64_t e) {
            rectify_backward(g + b * 16, mask + b * 2, out + b * 16, std::min(count, e * 16) - b * 16, slope);
        });
        return gx;
    }
    parallel_for(static_cast<std::int64_t>(gy.size()), k_activation_grain,
                 [&](std::int64_t b, std::int64_t e) {
                     switch (kind) {
                         case Kind::relu:
                         case Kind::leaky_relu:
                             break;       // above
                         case Kind::elu:  // ELU's scale 1: 1 * g is g, bit for bit
                         case Kind::selu: {
                             const EluScales k = elu_scales(kind, a);
                             elu_backward(y + b, g + b, out + b, e - b, k.scale, k.scale_alpha);
                             break;
                         }
                         case Kind::sigmoid:
                             for (std::int64_t i = b; i < e; ++i) out[i] = g[i] * y[i] * (1.0f - y[i]);
                             break;
                         case Kind::tanh:
                             for (std::int64_t i = b; i < e; ++i) out[i] = g[i] * (1.0f - y[i] * y[i]);
                             break;
                         case Kind::hard_sigmoid:
                             for (std::int64_t i = b; i < e; ++i)
                                 out[i] = y[i] > 0.0f && y[i] < 1.0f ? a * g[i] : 0.0f;
                             break;
                     }
                 });
    return gx;
}

bool Activation::fuses_after(const Shape& shape, std::int64_t row) const {
    const bool elementwise = is_rectifier(m_kind) || m_kind == Kind::elu || m_kind == Kind::selu;
    return m_inplace && elementwise && !(is_rectifier(m_kind) && switches_frozen()) && row % 16 == 0 &&
           shape.numel() > 0;
}

void Activation::begin_fused(const Tensor& y) {
    m_shape = y.shape();
    m_has_forward = true;
    if (is_rectifier(m_kind)) {
        m_mask.resize(static_cast<std::size_t>((y.size() + 15) / 16 * 2));
        m_cache = Tensor();
    } else {
        m_cache = saved_for_backward(y);
    }
}

void Activation::apply_fused(float* y, std::int64_t offset, std::int64_t count) {
    forward_span(y, y, offset, count);
}

void Activation::forward_span(const float* x, float* out, std::int64_t offset, std::int64_t count) {
    if (is_rectifier(m_kind)) {
        rectify_forward(x + offset, out + offset, m_mask.data() + offset / 8, count, rectifier_slope(m_kind, m_alpha));
    } else if (m_kind == Kind::elu || m_kind == Kind::selu) {
        const EluScales k = elu_scales(m_kind, m_alpha);
        elu_forward(x + offset, out + offset, count, k.scale, k.scale_alpha);
    } else {
        throw Error("nn::" + type(), "has no span-wise forward (only ReLU, LeakyReLU, ELU and SELU)");
    }
}

}  // namespace mtag::nn
