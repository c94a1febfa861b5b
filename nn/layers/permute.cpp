#include "nn/layers/permute.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

#include <algorithm>

namespace mtag::nn {

namespace {

std::string dims_text(const std::vector<std::int64_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + ")";
}

Shape permuted(const Shape& in, const std::vector<std::int64_t>& dims) {
    Shape out;
    for (const std::int64_t d : dims) out = out.appended(in[static_cast<int>(d)]);
    return out;
}

}  // namespace

void permute_into(const Tensor& in, const std::vector<std::int64_t>& dims, const Tensor& out) {
    // Pad to rank 4 with leading unit dims, so one 4-deep loop serves every rank.
    const int rank = in.rank(), pad = 4 - rank;
    std::int64_t in_stride[4] = {0, 0, 0, 0}, out_dim[4] = {1, 1, 1, 1};
    std::int64_t stride = 1;
    std::int64_t strides[4];
    for (int d = rank - 1; d >= 0; --d) {
        strides[d] = stride;
        stride *= in.dim(d);
    }
    for (int i = 0; i < rank; ++i) {
        in_stride[pad + i] = strides[dims[static_cast<std::size_t>(i)]];
        out_dim[pad + i] = in.dim(static_cast<int>(dims[static_cast<std::size_t>(i)]));
    }
    const float* src = in.data();
    float* dst = out.data();
    parallel_for(out_dim[0] * out_dim[1], 1, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t a = r / out_dim[1], b = r % out_dim[1];
            const float* base = src + a * in_stride[0] + b * in_stride[1];
            float* o = dst + r * out_dim[2] * out_dim[3];
            for (std::int64_t c = 0; c < out_dim[2]; ++c)
                for (std::int64_t d = 0; d < out_dim[3]; ++d)
                    *o++ = base[c * in_stride[2] + d * in_stride[3]];
        }
    });
}

Permute::Permute(const PermuteOptions& options) : m_options(options) {
    const auto& d = options.dims;
    std::vector<std::int64_t> sorted = d;
    std::sort(sorted.begin(), sorted.end());
    bool ok = d.size() >= 2 && d.size() <= 4 && d[0] == 0;
    for (std::size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == static_cast<std::int64_t>(i);
    if (!ok)
        throw Error("nn::Permute options",
                    "dims " + dims_text(d) +
                        ", expected a permutation of 0 .. rank-1 (rank 2..4) that keeps "
                        "the batch first (dims[0] == 0)");
    m_inverse.resize(d.size());
    for (std::size_t i = 0; i < d.size(); ++i)
        m_inverse[static_cast<std::size_t>(d[i])] = static_cast<std::int64_t>(i);
}

nlohmann::json Permute::config() const {
    return {{"type", type()}, {"dims", m_options.dims}};
}

Tensor Permute::forward(const Tensor& input) {
    if (input.rank() != static_cast<int>(m_options.dims.size()))
        throw Error("nn::Permute", "input shape " + input.shape().str() + ", expected rank " +
                                       std::to_string(m_options.dims.size()) + " for dims " +
                                       dims_text(m_options.dims));
    m_input_shape = input.shape();
    Tensor y = output_buffer(m_output, permuted(input.shape(), m_options.dims));
    permute_into(input, m_options.dims, y);
    return y;
}

Tensor Permute::backward(const Tensor& gy) {
    if (m_input_shape.rank() == 0) throw Error("nn::Permute", "backward() called before forward()");
    const Shape expected = permuted(m_input_shape, m_options.dims);
    if (!(gy.shape() == expected))
        throw Error("nn::Permute::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + expected.str());
    if (!input_grad()) return {};
    Tensor gx = Tensor::uninitialized(m_input_shape);
    permute_into(gy, m_inverse, gx);
    return gx;
}

}  // namespace mtag::nn
