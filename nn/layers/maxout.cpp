#include "nn/layers/maxout.hpp"

#include "dsp/error.hpp"
#include "nn/threads.hpp"

#include <algorithm>

namespace mtag::nn {

Maxout::Maxout(const MaxoutOptions& options) : m_options(options) {
    if (options.pieces < 2 || options.pieces > 255)
        throw Error("nn::Maxout options",
                    "pieces = " + std::to_string(options.pieces) + ", expected 2 to 255");
}

nlohmann::json Maxout::config() const {
    return {{"type", type()}, {"pieces", m_options.pieces}};
}

Tensor Maxout::forward(const Tensor& input) {
    const Shape& s = input.shape();
    const std::int64_t k = m_options.pieces;
    if (s.rank() < 2 || s[1] % k != 0)
        throw Error("nn::Maxout", "input shape " + s.str() + ": dim 1 must be a multiple of pieces = " +
                                      std::to_string(k) + " (the layer before must give pieces x the units)");
    Shape out_shape = s;
    out_shape[1] = s[1] / k;
    const std::int64_t n = s[0], c = out_shape[1];
    const std::int64_t inner = s.numel() / (s[0] * s[1]);  // elements per channel
    Tensor y = Tensor::uninitialized(out_shape);
    if (switches_frozen()) {
        if (!m_has_forward || !(s == m_input_shape))
            throw Error("nn::Maxout with frozen switches",
                        "input shape " + s.str() + " differs from the pass that recorded the winning pieces");
        const std::int64_t groups = n * c;
        for (std::int64_t nc = 0; nc < groups; ++nc)
            for (std::int64_t i = 0; i < inner; ++i)
                y.data()[nc * inner + i] = input.data()[nc * k * inner + m_argmax[static_cast<std::size_t>(nc * inner + i)] * inner + i];
        return y;
    }
    m_argmax.resize(static_cast<std::size_t>(out_shape.numel()));
    m_input_shape = s;
    m_has_forward = true;
    const float* x = input.data();
    float* out = y.data();
    std::uint8_t* arg = m_argmax.data();
    // One task per (example, output channel): its k input planes are contiguous.
    parallel_for(n * c, std::max<std::int64_t>(1, (1 << 15) / std::max<std::int64_t>(1, inner * k)),
                 [=](std::int64_t b, std::int64_t e) {
                     for (std::int64_t nc = b; nc < e; ++nc) {
                         const float* group = x + nc * k * inner;
                         float* o = out + nc * inner;
                         std::uint8_t* a = arg + nc * inner;
                         for (std::int64_t i = 0; i < inner; ++i) {
                             o[i] = group[i];
                             a[i] = 0;
                         }
                         for (std::int64_t j = 1; j < k; ++j) {
                             const float* piece = group + j * inner;
                             for (std::int64_t i = 0; i < inner; ++i)
                                 if (piece[i] > o[i]) {  // strict: ties keep the first piece
                                     o[i] = piece[i];
                                     a[i] = static_cast<std::uint8_t>(j);
                                 }
                         }
                     }
                 });
    return y;
}

Tensor Maxout::backward(const Tensor& gy) {
    if (!m_has_forward) throw Error("nn::Maxout", "backward() called before forward()");
    const std::int64_t k = m_options.pieces;
    Shape out_shape = m_input_shape;
    out_shape[1] = m_input_shape[1] / k;
    if (!(gy.shape() == out_shape))
        throw Error("nn::Maxout::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + out_shape.str());
    if (!input_grad()) return {};
    Tensor gx(m_input_shape);  // zero: only the winning piece of each group gets a gradient
    const std::int64_t inner = m_input_shape.numel() / (m_input_shape[0] * m_input_shape[1]);
    const std::int64_t groups = out_shape[0] * out_shape[1];
    const float* g = gy.data();
    const std::uint8_t* arg = m_argmax.data();
    float* out = gx.data();
    for (std::int64_t nc = 0; nc < groups; ++nc)
        for (std::int64_t i = 0; i < inner; ++i)
            out[nc * k * inner + arg[nc * inner + i] * inner + i] = g[nc * inner + i];
    return gx;
}

}  // namespace mtag::nn
