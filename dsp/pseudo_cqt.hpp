#pragma once
// Pseudo constant-Q transform with librosa.pseudo_cqt's semantics: the constant-Q kernels of dsp/cqt.hpp
// built at the input rate in one FFT size, applied as magnitudes |K| to the magnitude of a Hann-windowed,
// centred STFT with that size. No decimation and no phase: cheap where kernels are short (librosa's
// hybrid_cqt uses it for the bins whose kernel fits in two hops), coarse for long ones. Its scaling is
// librosa's as its source reads (not checked against librosa itself): with `scale` it divides by
// sqrt(n_fft), which puts a steady tone at about sqrt(length / n_fft) of Cqt's value, not on Cqt's scale.
// ref: librosa.pseudo_cqt (core/constantq.py).
#include "dsp/cqt.hpp"
#include "dsp/cqt_kernels.hpp"
#include "dsp/fft.hpp"
#include "dsp/matrix.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace mtag::dsp {

// Takes CqtOptions (gamma must be 0: librosa has no pseudo-VQT); validated once, as Cqt's. One object per
// thread (it owns scratch buffers).
class PseudoCqt {
public:
    explicit PseudoCqt(const CqtOptions& options);

    const CqtOptions& options() const { return m_options; }
    // The STFT size: the next power of two at least as long as the longest kernel and as 2 * hop_length.
    int n_fft() const { return m_kernels.n_fft; }
    std::span<const double> frequencies() const { return m_bank.frequencies; }
    std::span<const double> lengths() const { return m_bank.lengths; }
    // 1 + n / hop_length, as a centred STFT.
    std::size_t n_frames(std::size_t n_samples) const;

    // Magnitudes as [n_bins, frames]: sum_k |K[k]| |X[k]|, then / sqrt(n_fft) when `scale` (librosa's
    // choice for the pseudo transform) or * sqrt(length / n_fft) otherwise. Throws on an empty signal.
    void compute(std::span<const float> x, FloatMatrix& out);

private:
    CqtOptions m_options;
    CqtFilterBank m_bank;
    SparseKernels m_kernels;       // ranges and offsets of each row
    std::vector<float> m_weights;  // |K| with every scale factor folded in, laid out as m_kernels.values
    int m_lo = 0, m_hi = 0;        // union of the rows' spectrum ranges
    std::shared_ptr<const RealFft> m_fft;
    std::vector<float> m_window;  // periodic Hann of n_fft samples
    FftBuffer<float> m_frame;
    FftBuffer<std::complex<float>> m_spectrum;
    std::vector<float> m_magnitude;  // |X| over [m_lo, m_hi)
};

}  // namespace mtag::dsp
