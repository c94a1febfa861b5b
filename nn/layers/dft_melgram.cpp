#include "nn/layers/dft_melgram.hpp"

#include "dsp/error.hpp"
#include "nn/gemm.hpp"
#include "nn/inference_mode.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::nn {

DftMelgram::DftMelgram(const DftMelgramOptions& o) : m_options(o) {
    if (o.n_dft < 2 || o.hop_length < 1 || o.n_mels < 1 || !(o.amin > 0) || !(o.dynamic_range > 0))
        throw Error("DftMelgram", "n_dft >= 2, hop_length >= 1, n_mels >= 1, amin > 0 and dynamic_range > 0 expected");
    const std::int64_t bins = o.n_dft / 2 + 1;
    m_real = &register_buffer("dft_real", Tensor({o.n_dft, bins}));
    m_imag = &register_buffer("dft_imag", Tensor({o.n_dft, bins}));
    m_mel = &register_buffer("mel", Tensor({bins, o.n_mels}));
}

std::int64_t DftMelgram::frames(std::int64_t samples) const {
    return (samples + m_options.hop_length - 1) / m_options.hop_length;
}

void DftMelgram::set_transform(const Tensor& dft_real, const Tensor& dft_imag, const Tensor& mel) {
    const std::pair<const Tensor*, Buffer*> pairs[] = {{&dft_real, m_real}, {&dft_imag, m_imag}, {&mel, m_mel}};
    for (const auto& [given, buffer] : pairs)
        if (given->shape() != buffer->value.shape())
            throw Error("DftMelgram " + buffer->name, "expected shape " + buffer->value.shape().str() + ", got " +
                                                          given->shape().str());
    for (const auto& [given, buffer] : pairs) buffer->value.copy_from(*given);
}

Tensor DftMelgram::forward(const Tensor& input) {
    if (!(input.rank() == 2 || (input.rank() == 3 && input.shape()[1] == 1)))
        throw Error("DftMelgram", "expected input (N, samples) or (N, 1, samples), got " + input.shape().str());
    const DftMelgramOptions& o = m_options;
    const std::int64_t n = input.shape()[0], s = input.shape()[input.rank() - 1];
    const std::int64_t t = frames(s), bins = o.n_dft / 2 + 1;
    const std::int64_t pad_before = std::max<std::int64_t>(0, (t - 1) * o.hop_length + o.n_dft - s) / 2;
    const std::int64_t rows = n * t;
    if (m_frames.shape() != Shape{rows, o.n_dft}) {
        m_frames = Tensor({rows, o.n_dft});
        m_re = Tensor({rows, bins});
        m_im = Tensor({rows, bins});
        m_power = Tensor({rows, bins});
        m_melpower = Tensor({rows, o.n_mels});
    }
    const float* x = input.data();
    float* f = m_frames.data();
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t k = 0; k < t; ++k) {
            float* row = f + (b * t + k) * o.n_dft;
            const std::int64_t start = k * o.hop_length - pad_before;
            for (std::int64_t j = 0; j < o.n_dft; ++j) {
                const std::int64_t i = start + j;
                row[j] = i >= 0 && i < s ? x[b * s + i] : 0.0f;
            }
        }
    const int r = static_cast<int>(rows), d = static_cast<int>(o.n_dft), nb = static_cast<int>(bins),
              nm = static_cast<int>(o.n_mels);
    gemm(CblasNoTrans, CblasNoTrans, r, nb, d, 1.0f, f, d, m_real->value.data(), nb, 0.0f, m_re.data(), nb);
    gemm(CblasNoTrans, CblasNoTrans, r, nb, d, 1.0f, f, d, m_imag->value.data(), nb, 0.0f, m_im.data(), nb);
    float* p = m_power.data();
    for (std::int64_t i = 0; i < rows * bins; ++i) p[i] = m_re.data()[i] * m_re.data()[i] + m_im.data()[i] * m_im.data()[i];
    gemm(CblasNoTrans, CblasNoTrans, r, nm, nb, 1.0f, p, nb, m_mel->value.data(), nm, 0.0f, m_melpower.data(), nm);
    // dB relative to each example's maximum, floored; written as (N, 1, n_mels, T).
    Tensor out({n, 1, o.n_mels, t});
    const float amin = static_cast<float>(o.amin), floor_db = -static_cast<float>(o.dynamic_range);
    for (std::int64_t b = 0; b < n; ++b) {
        const float* m = m_melpower.data() + b * t * o.n_mels;
        float* y = out.data() + b * o.n_mels * t;
        float peak = -std::numeric_limits<float>::infinity();
        for (std::int64_t k = 0; k < t; ++k)
            for (std::int64_t c = 0; c < o.n_mels; ++c) {
                const float db = 10.0f * std::log10(std::max(m[k * o.n_mels + c], amin));
                y[c * t + k] = db;
                peak = std::max(peak, db);
            }
        for (std::int64_t i = 0; i < o.n_mels * t; ++i) y[i] = std::max(y[i] - peak, floor_db);
    }
    // Inference mode keeps nothing between batches: the scratch (5 input-sized tensors) is rebuilt next call.
    if (inference_mode()) m_frames = m_re = m_im = m_power = m_melpower = Tensor();
    return out;
}

Tensor DftMelgram::backward(const Tensor&) {
    if (input_grad())
        throw Error("DftMelgram", "has no input gradient: it is a fixed front end and must be the first layer");
    return {};
}

nlohmann::json DftMelgram::config() const {
    return {{"type", type()},
            {"n_dft", m_options.n_dft},
            {"hop_length", m_options.hop_length},
            {"n_mels", m_options.n_mels},
            {"amin", m_options.amin},
            {"dynamic_range", m_options.dynamic_range}};
}

}  // namespace mtag::nn
