#include "nn/layers/reshape.hpp"

#include "dsp/error.hpp"

#include <algorithm>

namespace mtag::nn {

namespace {

std::string batch_dims_text(const std::vector<std::int64_t>& dims) {
    std::string s = "(N";
    for (const std::int64_t d : dims) s += ", " + std::to_string(d);
    return s + ")";
}

}  // namespace

Reshape::Reshape(const ReshapeOptions& options) : m_options(options) {
    const auto& s = options.shape;
    const auto inferred = std::count(s.begin(), s.end(), -1);
    const bool dims_ok = std::all_of(s.begin(), s.end(), [](std::int64_t d) { return d >= 1 || d == -1; });
    if (s.empty() || s.size() > 3 || inferred > 1 || !dims_ok)
        throw Error(
            "nn::Reshape options",
            "shape " + batch_dims_text(s) + ", expected 1 to 3 non-batch dims, each >= 1 or one of them -1");
}

nlohmann::json Reshape::config() const {
    return {{"type", type()}, {"shape", m_options.shape}};
}

Tensor Reshape::forward(const Tensor& input) {
    if (input.rank() < 1) throw Error("nn::Reshape", "input has no batch dim");
    const std::int64_t n = input.dim(0), per_item = n > 0 ? input.shape().numel() / n : 0;
    std::int64_t known = 1;
    for (const std::int64_t d : m_options.shape)
        if (d != -1) known *= d;
    const bool infer = std::find(m_options.shape.begin(), m_options.shape.end(), -1) != m_options.shape.end();
    if (infer ? per_item % known != 0 : per_item != known)
        throw Error("nn::Reshape", "input shape " + input.shape().str() + " (" + std::to_string(per_item) +
                                       " values per item), expected " + batch_dims_text(m_options.shape));
    Shape out{n};
    for (const std::int64_t d : m_options.shape) out = out.appended(d == -1 ? per_item / known : d);
    m_input_shape = input.shape();
    m_output_shape = out;
    return input.view(out);
}

Tensor Reshape::backward(const Tensor& gy) {
    if (m_input_shape.rank() == 0) throw Error("nn::Reshape", "backward() called before forward()");
    if (!(gy.shape() == m_output_shape))
        throw Error("nn::Reshape::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_output_shape.str());
    return input_grad() ? gy.view(m_input_shape) : Tensor();
}

}  // namespace mtag::nn
