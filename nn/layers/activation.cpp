#include "nn/layers/activation.hpp"

#include "dsp/error.hpp"
#include "nn/threads.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::nn {

namespace {
constexpr std::int64_t grain = 1 << 15;
}

Activation::Activation(Kind kind, float alpha, bool inplace)
    : m_kind(kind), m_alpha(alpha), m_inplace(inplace) {
    if (kind == Kind::leaky_relu && !(alpha >= 0.0f))
        throw Error("nn::LeakyReLU options", "negative_slope = " + std::to_string(alpha) + ", expected >= 0");
    if (kind == Kind::elu && !(alpha > 0.0f))
        throw Error("nn::ELU options", "alpha = " + std::to_string(alpha) + ", expected > 0");
}

std::string Activation::type() const {
    switch (m_kind) {
        case Kind::relu:
            return "ReLU";
        case Kind::leaky_relu:
            return "LeakyReLU";
        case Kind::elu:
            return "ELU";
        case Kind::sigmoid:
            return "Sigmoid";
        case Kind::tanh:
            return "Tanh";
    }
    return "Activation";
}

nlohmann::json Activation::config() const {
    nlohmann::json j{{"type", type()}};
    if (m_kind == Kind::leaky_relu) j["negative_slope"] = m_alpha;
    if (m_kind == Kind::elu) j["alpha"] = m_alpha;
    if (m_kind == Kind::relu || m_kind == Kind::leaky_relu || m_kind == Kind::elu) j["inplace"] = m_inplace;
    return j;
}

Tensor Activation::forward(const Tensor& input) {
    Tensor y = m_inplace ? input : reuse_or_allocate(m_output, input.shape());
    const float* x = input.data();
    float* out = y.data();
    const float a = m_alpha;
    const Kind kind = m_kind;
    const bool masked = kind == Kind::relu || kind == Kind::leaky_relu;
    m_shape = input.shape();
    m_has_forward = true;
    const auto count = static_cast<std::int64_t>(input.size());
    if (masked) {
        // One bit per element (bit i % 8 of byte i / 8); threads own whole bytes.
        m_mask.resize(static_cast<std::size_t>((count + 7) / 8));
        std::uint8_t* mask = m_mask.data();
        const bool leaky = kind == Kind::leaky_relu;
        parallel_for((count + 7) / 8, grain / 8, [&](std::int64_t b, std::int64_t e) {
            // Full bytes with a fixed trip count of 8 (unrolled and vectorised), then the tail.
            const std::int64_t full = std::min(e, count / 8);
            for (std::int64_t k = b; k < full; ++k) {
                const float* xk = x + k * 8;
                float* ok = out + k * 8;
                unsigned bits = 0;
                for (int t = 0; t < 8; ++t) {
                    const float v = xk[t];  // read before the write: x and out may alias (inplace)
                    bits |= static_cast<unsigned>(v > 0.0f) << t;
                    ok[t] = v > 0.0f ? v : (leaky ? a * v : 0.0f);
                }
                mask[k] = static_cast<std::uint8_t>(bits);
            }
            for (std::int64_t k = std::max(b, full); k < e; ++k) {
                const std::int64_t i0 = k * 8, i1 = std::min(count, i0 + 8);
                unsigned bits = 0;
                for (std::int64_t i = i0; i < i1; ++i) {
                    const float v = x[i];
                    bits |= static_cast<unsigned>(v > 0.0f) << (i - i0);
                    out[i] = v > 0.0f ? v : (leaky ? a * v : 0.0f);
                }
                mask[k] = static_cast<std::uint8_t>(bits);
            }
        });
        m_cache = Tensor();
        return y;
    }
    parallel_for(count, grain, [&](std::int64_t b, std::int64_t e) {
        switch (kind) {
            case Kind::relu:
            case Kind::leaky_relu:
                break;  // above
            case Kind::elu:
                for (std::int64_t i = b; i < e; ++i) out[i] = x[i] > 0.0f ? x[i] : a * std::expm1(x[i]);
                break;
            case Kind::sigmoid:
                for (std::int64_t i = b; i < e; ++i) out[i] = 1.0f / (1.0f + std::exp(-x[i]));
                break;
            case Kind::tanh:
                for (std::int64_t i = b; i < e; ++i) out[i] = std::tanh(x[i]);
                break;
        }
    });
    m_cache = y;
    return y;
}

Tensor Activation::backward(const Tensor& gy) {
    if (!m_has_forward) throw Error("nn::" + type(), "backward() called before forward()");
    if (!(gy.shape() == m_shape))
        throw Error("nn::" + type() + "::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_shape.str());
    if (!input_grad()) return {};
    Tensor gx = gradient_buffer(gy);
    const float* y = m_cache.data();
    const std::uint8_t* mask = m_mask.data();
    const float* g = gy.data();
    float* out = gx.data();
    const float a = m_alpha;
    const Kind kind = m_kind;
    parallel_for(static_cast<std::int64_t>(gy.size()), grain, [&](std::int64_t b, std::int64_t e) {
        switch (kind) {
            case Kind::relu:
            case Kind::leaky_relu: {
                const bool leaky = kind == Kind::leaky_relu;  // ReLU gives +0 exactly, as before
                std::int64_t i = b;
                for (; i < e && (i & 7); ++i) out[i] = (mask[i >> 3] >> (i & 7)) & 1u ? g[i] : (leaky ? a * g[i] : 0.0f);
                for (; i + 8 <= e; i += 8) {  // whole bytes: fixed trip count, vectorised
                    const unsigned bits = mask[i >> 3];
                    for (int t = 0; t < 8; ++t) out[i + t] = (bits >> t) & 1u ? g[i + t] : (leaky ? a * g[i + t] : 0.0f);
                }
                for (; i < e; ++i) out[i] = (mask[i >> 3] >> (i & 7)) & 1u ? g[i] : (leaky ? a * g[i] : 0.0f);
                break;
            }
            case Kind::elu:
                for (std::int64_t i = b; i < e; ++i) out[i] = y[i] > 0.0f ? g[i] : g[i] * (y[i] + a);
                break;
            case Kind::sigmoid:
                for (std::int64_t i = b; i < e; ++i) out[i] = g[i] * y[i] * (1.0f - y[i]);
                break;
            case Kind::tanh:
                for (std::int64_t i = b; i < e; ++i) out[i] = g[i] * (1.0f - y[i] * y[i]);
                break;
        }
    });
    return gx;
}

}  // namespace mtag::nn
