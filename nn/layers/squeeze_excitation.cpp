#include "nn/layers/squeeze_excitation.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

namespace mtag::nn {

SqueezeExcitation::SqueezeExcitation(const SqueezeExcitationOptions& options) : m_options(options) {
    if (options.channels < 1 || options.hidden < 1)
        throw Error("nn::SqueezeExcitation options", "channels = " + std::to_string(options.channels) +
                                                         ", hidden = " + std::to_string(options.hidden) +
                                                         ", expected both >= 1");
    m_fc1 = register_module("fc1", std::make_shared<Linear>(LinearOptions{options.channels, options.hidden}));
    m_fc2 = register_module("fc2", std::make_shared<Linear>(LinearOptions{options.hidden, options.channels}));
}

Tensor SqueezeExcitation::forward(const Tensor& input) {
    if ((input.rank() != 3 && input.rank() != 4) || input.dim(1) != m_options.channels)
        throw Error("nn::SqueezeExcitation", "input shape " + input.shape().str() + ", expected (N, " +
                                                 std::to_string(m_options.channels) + ", ...)");
    m_input = saved_for_backward(input);
    const std::int64_t n = input.dim(0), c = input.dim(1),
                       len = static_cast<std::int64_t>(input.size()) / (n * c);
    Tensor squeezed = Tensor::uninitialized({n, c});
    for (std::int64_t r = 0; r < n * c; ++r) {
        const float* x = input.data() + r * len;
        double s = 0.0;
        for (std::int64_t i = 0; i < len; ++i) s += x[i];
        squeezed[static_cast<std::size_t>(r)] = static_cast<float>(s / static_cast<double>(len));
    }
    m_fc1->set_input_grad(true);
    m_excitation = m_sigmoid.forward(m_fc2->forward(m_relu.forward(m_fc1->forward(squeezed))));
    Tensor y = Tensor::uninitialized(input.shape());
    parallel_for(n * c, std::max<std::int64_t>(1, 16384 / len), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float e = m_excitation[static_cast<std::size_t>(r)];
            const float* x = input.data() + r * len;
            float* out = y.data() + r * len;
            for (std::int64_t i = 0; i < len; ++i) out[i] = x[i] * e;
        }
    });
    return y;
}

Tensor SqueezeExcitation::backward(const Tensor& gy) {
    if (!m_input.defined()) throw Error("nn::SqueezeExcitation", nothing_saved_message);
    if (!(gy.shape() == m_input.shape()))
        throw Error("nn::SqueezeExcitation::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_input.shape().str());
    const std::int64_t n = m_input.dim(0), c = m_input.dim(1),
                       len = static_cast<std::int64_t>(m_input.size()) / (n * c);
    // d loss / d excitation = sum over positions of g * x.
    Tensor ge = Tensor::uninitialized({n, c});
    for (std::int64_t r = 0; r < n * c; ++r) {
        const float* g = gy.data() + r * len;
        const float* x = m_input.data() + r * len;
        double s = 0.0;
        for (std::int64_t i = 0; i < len; ++i) s += static_cast<double>(g[i]) * x[i];
        ge[static_cast<std::size_t>(r)] = static_cast<float>(s);
    }
    const Tensor gs = m_fc1->backward(m_relu.backward(m_fc2->backward(m_sigmoid.backward(ge))));
    if (!input_grad()) return {};
    Tensor gx = Tensor::uninitialized(m_input.shape());
    parallel_for(n * c, std::max<std::int64_t>(1, 16384 / len), [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float e = m_excitation[static_cast<std::size_t>(r)];
            const float via_mean = gs[static_cast<std::size_t>(r)] / static_cast<float>(len);
            const float* g = gy.data() + r * len;
            float* out = gx.data() + r * len;
            for (std::int64_t i = 0; i < len; ++i) out[i] = g[i] * e + via_mean;
        }
    });
    return gx;
}

nlohmann::json SqueezeExcitation::config() const {
    return {{"type", type()}, {"channels", m_options.channels}, {"hidden", m_options.hidden}};
}

}  // namespace mtag::nn
