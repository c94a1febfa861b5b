#include "nn/layers/padding.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

#include <algorithm>
#include <cstring>

namespace mtag::nn {

ZeroPad2d::ZeroPad2d(const ZeroPad2dOptions& options) : m_options(options) {
    if (options.left < 0 || options.right < 0 || options.top < 0 || options.bottom < 0)
        throw Error("nn::ZeroPad2d options",
                    "padding (left, right, top, bottom) = (" + std::to_string(options.left) + ", " +
                        std::to_string(options.right) + ", " + std::to_string(options.top) + ", " +
                        std::to_string(options.bottom) + "), expected all >= 0");
}

nlohmann::json ZeroPad2d::config() const {
    return {{"type", type()},
            {"padding", {m_options.left, m_options.right, m_options.top, m_options.bottom}}};
}

Shape ZeroPad2d::padded(const Shape& in) const {
    Shape out = in;
    const int r = in.rank();
    out[r - 2] += m_options.top + m_options.bottom;
    out[r - 1] += m_options.left + m_options.right;
    return out;
}

Tensor ZeroPad2d::forward(const Tensor& input) {
    if (input.rank() != 3 && input.rank() != 4)
        throw Error("nn::ZeroPad2d",
                    "input shape " + input.shape().str() + ", expected (N, C, H, W) or (N, H, W)");
    m_input_shape = input.shape();
    const int r = input.rank();
    const std::int64_t h = input.dim(r - 2), w = input.dim(r - 1);
    const std::int64_t oh = h + m_options.top + m_options.bottom, ow = w + m_options.left + m_options.right;
    const std::int64_t planes = input.shape().numel() / (h * w);
    Tensor y = output_buffer(m_output, padded(input.shape()));
    const std::int64_t left = m_options.left, top = m_options.top;
    parallel_for(planes, 16, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
            float* out = y.data() + p * oh * ow;
            const float* in = input.data() + p * h * w;
            std::fill(out, out + top * ow, 0.0f);
            for (std::int64_t i = 0; i < h; ++i) {
                float* row = out + (top + i) * ow;
                std::fill(row, row + left, 0.0f);
                std::memcpy(row + left, in + i * w, sizeof(float) * static_cast<std::size_t>(w));
                std::fill(row + left + w, row + ow, 0.0f);
            }
            std::fill(out + (top + h) * ow, out + oh * ow, 0.0f);
        }
    });
    return y;
}

Tensor ZeroPad2d::backward(const Tensor& gy) {
    if (m_input_shape.rank() == 0) throw Error("nn::ZeroPad2d", "backward() called before forward()");
    if (!(gy.shape() == padded(m_input_shape)))
        throw Error("nn::ZeroPad2d::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + padded(m_input_shape).str());
    if (!input_grad()) return {};
    const int r = m_input_shape.rank();
    const std::int64_t h = m_input_shape[r - 2], w = m_input_shape[r - 1];
    const std::int64_t oh = gy.dim(r - 2), ow = gy.dim(r - 1);
    const std::int64_t planes = m_input_shape.numel() / (h * w);
    Tensor gx = Tensor::uninitialized(m_input_shape);
    parallel_for(planes, 16, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p)
            for (std::int64_t i = 0; i < h; ++i)
                std::memcpy(gx.data() + (p * h + i) * w,
                            gy.data() + (p * oh + m_options.top + i) * ow + m_options.left,
                            sizeof(float) * static_cast<std::size_t>(w));
    });
    return gx;
}

}  // namespace mtag::nn
