#include "dsp/pseudo_cqt.hpp"

#include "dsp/error.hpp"
#include "dsp/window.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::dsp {

namespace {

int pseudo_min_fft(int hop) {
    // librosa: n_fft >= 2 ** (1 + ceil(log2(hop_length))).
    int n = 1;
    while (n < hop) n <<= 1;
    return 2 * n;
}

const CqtOptions& check_pseudo(const CqtOptions& options) {
    if (!options.gamma || *options.gamma != 0.0)
        throw Error("cqt option gamma",
                    "the pseudo constant-Q transform has no variable-Q form; use gamma = 0");
    return options;
}

}  // namespace

PseudoCqt::PseudoCqt(const CqtOptions& options)
    : m_options(check_pseudo(options)),
      m_bank(m_options),
      m_kernels(make_sparse_kernels(m_options, m_bank, 0, m_options.n_bins, m_options.sample_rate,
                                    pseudo_min_fft(m_options.hop_length))) {
    const int n_fft = m_kernels.n_fft;
    // ref: librosa.pseudo_cqt: basis * lengths / n_fft, |FFT|, then C / sqrt(n_fft) (scale) or
    // C * sqrt(lengths / n_fft).
    m_weights.resize(m_kernels.values.size());
    m_lo = n_fft;
    for (std::size_t r = 0; r < m_kernels.rows(); ++r) {
        const double length = m_bank.lengths[r];
        const double gain =
            length / n_fft * (m_options.scale ? 1.0 / std::sqrt(n_fft) : std::sqrt(length / n_fft));
        for (int k = m_kernels.lo[r]; k < m_kernels.hi[r]; ++k) {
            const std::size_t i = m_kernels.offset[r] + static_cast<std::size_t>(k - m_kernels.lo[r]);
            m_weights[i] = static_cast<float>(std::abs(m_kernels.values[i]) * gain);
        }
        m_lo = std::min(m_lo, m_kernels.lo[r]);
        m_hi = std::max(m_hi, m_kernels.hi[r]);
    }
    m_fft = real_fft(n_fft);
    m_window = make_window(WindowKind::hann, n_fft, true);
    m_frame = fft_alloc_real(static_cast<std::size_t>(n_fft));
    m_spectrum = fft_alloc_complex(static_cast<std::size_t>(n_fft / 2 + 1));
    m_magnitude.resize(static_cast<std::size_t>(std::max(0, m_hi - m_lo)));
}

std::size_t PseudoCqt::n_frames(std::size_t n_samples) const {
    return 1 + n_samples / static_cast<std::size_t>(m_options.hop_length);
}

void PseudoCqt::compute(std::span<const float> x, FloatMatrix& out) {
    if (x.empty()) throw Error("pseudo cqt", "the input signal is empty");
    const std::size_t n = x.size();
    const std::size_t frames = n_frames(n);
    const int n_fft = m_kernels.n_fft;
    const std::ptrdiff_t half = n_fft / 2;
    const bool reflect = m_options.pad_mode == CqtPadMode::reflect;
    out.resize(static_cast<std::size_t>(m_options.n_bins), frames);
    float* frame = m_frame.get();
    for (std::size_t t = 0; t < frames; ++t) {
        // Frame t covers samples [t * hop - n_fft / 2, t * hop + n_fft / 2), windowed (librosa.stft,
        // center=True).
        const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(t) * m_options.hop_length - half;
        for (std::ptrdiff_t i = 0; i < n_fft; ++i) {
            std::ptrdiff_t s = start + i;
            float v = 0.0f;
            if (s >= 0 && s < static_cast<std::ptrdiff_t>(n)) {
                v = x[static_cast<std::size_t>(s)];
            } else if (reflect && n > 1) {
                const std::ptrdiff_t period = 2 * (static_cast<std::ptrdiff_t>(n) - 1);
                s %= period;
                if (s < 0) s += period;
                if (s >= static_cast<std::ptrdiff_t>(n)) s = period - s;
                v = x[static_cast<std::size_t>(s)];
            } else if (reflect) {
                v = x[0];
            }
            frame[i] = v * m_window[static_cast<std::size_t>(i)];
        }
        m_fft->forward(frame, m_spectrum.get());
        for (int k = m_lo; k < m_hi; ++k)
            m_magnitude[static_cast<std::size_t>(k - m_lo)] = std::abs(m_spectrum[k]);
        for (std::size_t r = 0; r < m_kernels.rows(); ++r) {
            const float* w = m_weights.data() + m_kernels.offset[r];
            const float* mag = m_magnitude.data() + (m_kernels.lo[r] - m_lo);
            const int width = m_kernels.hi[r] - m_kernels.lo[r];
            float acc = 0.0f;
            for (int k = 0; k < width; ++k) acc += w[k] * mag[k];
            out(r, t) = acc;
        }
    }
}

}  // namespace mtag::dsp
