#include "nn/layers/dropout.hpp"

#include "dsp/error.hpp"

#include <sstream>

namespace mtag::nn {

Dropout::Dropout(const DropoutOptions& options) : m_options(options), m_rng(options.seed) {
    if (!(options.p >= 0.0 && options.p < 1.0))
        throw Error("nn::Dropout options", "p = " + std::to_string(options.p) + ", expected in [0, 1)");
}

Tensor Dropout::forward(const Tensor& input) {
    m_shape = input.shape();
    m_masked = is_training() && m_options.p > 0.0;
    if (!m_masked) return input;
    m_mask.resize(input.size());
    // 53-bit uniform draws compared against p: an exact Bernoulli(1-p) per element.
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (auto& m : m_mask) m = u(m_rng) >= m_options.p ? 1 : 0;
    const float scale = static_cast<float>(1.0 / (1.0 - m_options.p));
    Tensor y = Tensor::uninitialized(input.shape());
    for (std::size_t i = 0; i < input.size(); ++i) y[i] = m_mask[i] ? input[i] * scale : 0.0f;
    return y;
}

Tensor Dropout::backward(const Tensor& gy) {
    if (!(gy.shape() == m_shape))
        throw Error("nn::Dropout::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_shape.str());
    if (!input_grad()) return {};
    if (!m_masked) return gy;
    const float scale = static_cast<float>(1.0 / (1.0 - m_options.p));
    Tensor gx = Tensor::uninitialized(gy.shape());
    for (std::size_t i = 0; i < gy.size(); ++i) gx[i] = m_mask[i] ? gy[i] * scale : 0.0f;
    return gx;
}

std::string Dropout::rng_state() const {
    std::ostringstream out;
    out << m_rng;
    return out.str();
}

void Dropout::set_rng_state(const std::string& state) {
    std::istringstream in(state);
    std::mt19937_64 rng;
    in >> rng;
    if (in.fail()) throw Error("nn::Dropout", "malformed generator state (expected the text of std::mt19937_64)");
    m_rng = rng;
}

nlohmann::json Dropout::config() const {
    return {{"type", type()}, {"p", m_options.p}, {"seed", m_options.seed}};
}

}  // namespace mtag::nn
