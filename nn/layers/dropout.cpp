#include "nn/layers/dropout.hpp"

#include "dsp/error.hpp"
#include "nn/threads.hpp"

#include <cmath>
#include <cstdint>
#include <sstream>

namespace mtag::nn {

std::uint64_t dropout_keep_threshold(double p) {
    // The draw u of std::uniform_real_distribution<double>(0, 1) over a 64-bit engine is double(r) / 2^64
    // (libstdc++'s generate_canonical: one draw r, rounded to double, divided by a power of two), and
    // u >= p exactly when double(r) >= p * 2^64. The rounding is monotone in r, so that holds exactly
    // from some r on: found by bisection once per p.
    const double scaled = std::ldexp(p, 64);
    if (!(scaled > 0.0)) return 0;
    std::uint64_t lo = 0, hi = ~std::uint64_t{0};  // double(hi) = 2^64 >= scaled, since p < 1
    while (lo < hi) {
        const std::uint64_t mid = lo + (hi - lo) / 2;
        if (static_cast<double>(mid) >= scaled)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

Dropout::Dropout(const DropoutOptions& options) : m_options(options), m_rng(options.seed) {
    if (!(options.p >= 0.0 && options.p < 1.0))
        throw Error("nn::Dropout options", "p = " + std::to_string(options.p) + ", expected in [0, 1)");
}

Tensor Dropout::forward(const Tensor& input) {
    m_shape = input.shape();
    m_masked = is_training() && m_options.p > 0.0;
    if (!m_masked) return input;
    const auto n = static_cast<std::int64_t>(input.size());
    m_mask.resize(static_cast<std::size_t>(n));
    // An exact Bernoulli(1-p) per element: the same masks as comparing 53-bit uniform draws against p, from
    // one integer comparison per draw. The draws stay serial (one generator, the same masks at any thread
    // count); applying them runs on the pool.
    const std::uint64_t keep_from = dropout_keep_threshold(m_options.p);
    for (auto& m : m_mask) m = m_rng() >= keep_from ? 1 : 0;
    Tensor y = Tensor::uninitialized(input.shape());
    apply_mask(input.data(), y.data(), n);
    return y;
}

void Dropout::apply_mask(const float* in, float* out, std::int64_t n) const {
    const float scale = static_cast<float>(1.0 / (1.0 - m_options.p));
    const std::uint8_t* mask = m_mask.data();
    parallel_for(n, 1 << 16, [=](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) out[i] = mask[i] ? in[i] * scale : 0.0f;
    });
}

Tensor Dropout::backward(const Tensor& gy) {
    if (!(gy.shape() == m_shape))
        throw Error("nn::Dropout::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_shape.str());
    if (!input_grad()) return {};
    if (!m_masked) return gy;
    Tensor gx = gradient_buffer(gy);
    apply_mask(gy.data(), gx.data(), static_cast<std::int64_t>(gy.size()));
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
    if (in.fail())
        throw Error("nn::Dropout", "malformed generator state (expected the text of std::mt19937_64)");
    m_rng = rng;
}

nlohmann::json Dropout::config() const {
    return {{"type", type()}, {"p", m_options.p}, {"seed", m_options.seed}};
}

}  // namespace mtag::nn
