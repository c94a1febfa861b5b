#include "nn/layers/linear.hpp"

#include "dsp/error.hpp"
#include "nn/gemm.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"


namespace mtag::nn {

namespace {
const LinearOptions& validated(const LinearOptions& o) {
    if (o.in_features < 1 || o.out_features < 1)
        throw Error("nn::Linear options", "in_features = " + std::to_string(o.in_features) +
                                              ", out_features = " + std::to_string(o.out_features) +
                                              ", expected both >= 1");
    return o;
}
}  // namespace

Linear::Linear(const LinearOptions& options)
    : m_options(validated(options)),
      m_weight(register_parameter("weight", {options.out_features, options.in_features})) {
    if (options.bias) m_bias = &register_parameter("bias", {options.out_features}, true);
    init_blas();
}

Tensor Linear::forward(const Tensor& input) {
    if (input.rank() != 2 || input.dim(1) != m_options.in_features)
        throw Error("nn::Linear", "input shape " + input.shape().str() + ", expected (N, " +
                                      std::to_string(m_options.in_features) + ")");
    m_input = saved_for_backward(input);
    const int n = static_cast<int>(input.dim(0)), in = static_cast<int>(m_options.in_features),
              out = static_cast<int>(m_options.out_features);
    Tensor y = output_buffer(m_output, {n, out});
    if (m_bias) {
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < out; ++j) y.data()[i * out + j] = m_bias->value[static_cast<std::size_t>(j)];
    }
    gemm(CblasNoTrans, CblasTrans, n, out, in, 1.0f, input.data(), in, m_weight.data(),
                in, m_bias ? 1.0f : 0.0f, y.data(), out);
    return y;
}

Tensor Linear::backward(const Tensor& gy) {
    if (!m_input.defined()) throw Error("nn::Linear", nothing_saved_message);
    const int n = static_cast<int>(m_input.dim(0)), in = static_cast<int>(m_options.in_features),
              out = static_cast<int>(m_options.out_features);
    if (!(gy.shape() == Shape{n, out}))
        throw Error("nn::Linear::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + Shape{n, out}.str());
    if (m_weight.requires_grad)
        gemm(CblasTrans, CblasNoTrans, out, in, n, 1.0f, gy.data(), out, m_input.data(),
                    in, 1.0f, m_weight.grad_data(), in);
    if (m_bias && m_bias->requires_grad)
        for (int j = 0; j < out; ++j) {
            float s = 0.0f;
            for (int i = 0; i < n; ++i) s += gy.data()[i * out + j];
            m_bias->grad[static_cast<std::size_t>(j)] += s;
        }
    if (!input_grad()) return {};
    Tensor gx = Tensor::uninitialized({n, in});
    gemm(CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, gy.data(), out, m_weight.data(),
                in, 0.0f, gx.data(), in);
    return gx;
}

nlohmann::json Linear::config() const {
    return {{"type", type()},
            {"in_features", m_options.in_features},
            {"out_features", m_options.out_features},
            {"bias", m_options.bias}};
}

}  // namespace mtag::nn
