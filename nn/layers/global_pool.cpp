#include "nn/layers/global_pool.hpp"

#include "dsp/error.hpp"
#include "nn/threads.hpp"

#include <limits>

namespace mtag::nn {

namespace {
// Rows (groups reduced independently) and the length of each reduced group for this input.
void split(const Tensor& x, GlobalPoolOptions::Axes axes, std::int64_t& rows, std::int64_t& len, Shape& out) {
    const std::int64_t n = x.dim(0), c = x.dim(1);
    if (x.rank() == 4 && axes == GlobalPoolOptions::Axes::time) {
        rows = n * c * x.dim(2);
        len = x.dim(3);
        out = {n, c, x.dim(2)};
    } else {
        rows = n * c;
        len = static_cast<std::int64_t>(x.size()) / (n * c);
        out = {n, c};
    }
}
}  // namespace

Tensor GlobalPool::forward(const Tensor& input) {
    if (input.rank() != 3 && input.rank() != 4)
        throw Error("nn::GlobalPool",
                    "input shape " + input.shape().str() + ", expected (N, C, L) or (N, C, H, W)");
    std::int64_t rows, len;
    Shape out_shape;
    split(input, m_options.axes, rows, len, out_shape);
    if (len < 1) throw Error("nn::GlobalPool", "empty pooling window for input shape " + input.shape().str());
    const bool is_max = m_options.mode == GlobalPoolOptions::Mode::max;
    if (is_max && switches_frozen()) {
        if (!(input.shape() == m_input_shape) || m_argmax.size() != static_cast<std::size_t>(rows))
            throw Error("nn::GlobalPool with frozen switches",
                        "input shape " + input.shape().str() + " differs from the pass that recorded the argmax");
        Tensor y = Tensor::uninitialized(out_shape);
        for (std::int64_t r = 0; r < rows; ++r)
            y[static_cast<std::size_t>(r)] = input.data()[r * len + m_argmax[static_cast<std::size_t>(r)]];
        return y;
    }
    m_input_shape = input.shape();
    Tensor y = Tensor::uninitialized(out_shape);
    if (is_max) m_argmax.resize(static_cast<std::size_t>(rows));
    parallel_for(rows, std::max<std::int64_t>(1, 4096 / len), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* x = input.data() + r * len;
            if (is_max) {
                // PyTorch's rule (take v when v > max || isnan(v)) as selects: with short rows of random
                // values (cnn1d: 6 frames) the branch was mispredicted about every other row.
                float best = -std::numeric_limits<float>::infinity();
                std::int64_t where = 0;
                for (std::int64_t i = 0; i < len; ++i) {
                    const float v = x[i];
                    const bool take = (v > best) | (v != v);
                    best = take ? v : best;
                    where = take ? i : where;
                }
                y[static_cast<std::size_t>(r)] = best;
                m_argmax[static_cast<std::size_t>(r)] = where;
            } else {
                double s = 0.0;
                for (std::int64_t i = 0; i < len; ++i) s += x[i];
                y[static_cast<std::size_t>(r)] = static_cast<float>(s / static_cast<double>(len));
            }
        }
    });
    return y;
}

Tensor GlobalPool::backward(const Tensor& gy) {
    if (m_input_shape.rank() == 0) throw Error("nn::GlobalPool", "backward() called before forward()");
    const std::int64_t n = m_input_shape[0], c = m_input_shape[1];
    const bool time4 = m_input_shape.rank() == 4 && m_options.axes == GlobalPoolOptions::Axes::time;
    const std::int64_t rows = time4 ? n * c * m_input_shape[2] : n * c;
    const std::int64_t len = m_input_shape.numel() / rows;
    if (static_cast<std::int64_t>(gy.size()) != rows)
        throw Error("nn::GlobalPool::backward",
                    "grad_output shape " + gy.shape().str() + " does not match the last output");
    if (!input_grad()) return {};
    const bool is_max = m_options.mode == GlobalPoolOptions::Mode::max;
    Tensor gx = is_max ? Tensor(m_input_shape) : Tensor::uninitialized(m_input_shape);
    parallel_for(rows, std::max<std::int64_t>(1, 4096 / len), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            float* out = gx.data() + r * len;
            const float g = gy[static_cast<std::size_t>(r)];
            if (is_max) {
                out[m_argmax[static_cast<std::size_t>(r)]] = g;
            } else {
                const float v = g / static_cast<float>(len);
                for (std::int64_t i = 0; i < len; ++i) out[i] = v;
            }
        }
    });
    return gx;
}

nlohmann::json GlobalPool::config() const {
    return {{"type", type()},
            {"mode", m_options.mode == GlobalPoolOptions::Mode::max ? "max" : "avg"},
            {"axes", m_options.axes == GlobalPoolOptions::Axes::time ? "time" : "all"}};
}

}  // namespace mtag::nn
