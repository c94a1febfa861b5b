#pragma once
// The constant-Q filter bank shared by Cqt and PseudoCqt: option validation, centre frequencies, kernel
// lengths, and sparse FFT-domain kernels for a band of bins at a given rate.
// ref: librosa.filters.wavelet_lengths, librosa.filters.wavelet, librosa.core.constantq.__vqt_filter_fft,
//      librosa.util.sparsify_rows.
#include "dsp/cqt.hpp"

#include <complex>
#include <cstddef>
#include <vector>

namespace mtag::dsp {

// Frequencies and lengths of every bin, with the constants they derive from.
struct CqtFilterBank {
    std::vector<double> frequencies;  // Hz, lowest first
    std::vector<double> lengths;      // kernel lengths in (fractional) samples at the options' sample_rate
    double alpha = 0;                 // relative bandwidth (2^(2/B) - 1) / (2^(2/B) + 1)
    double q = 0;                     // filter_scale / alpha
    double gamma = 0;                 // VQT offset in Hz (0 for the CQT)
    double cutoff = 0;                // highest frequency any kernel's main lobe reaches (Hz)
    double a0 = 0, a1 = 0, a2 = 0;    // window w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)

    // Validates every option (throws mtag::Error naming it), including the cutoff against Nyquist.
    explicit CqtFilterBank(const CqtOptions& options);
    // Kernel length of bin k at sample rate `rate`.
    double length_at(int k, double rate) const { return q * rate / (frequencies[k] + gamma / alpha); }
};

// FFT-domain kernels of consecutive bins: row r is non-zero only on spectrum bins [lo[r], hi[r]); its values
// start at values[offset[r]] (values the sparsification dropped inside the range are stored as zeros).
struct SparseKernels {
    int n_fft = 0;
    std::vector<int> lo, hi;
    std::vector<std::size_t> offset;
    std::vector<std::complex<float>> values;

    std::size_t rows() const { return lo.size(); }
    // Multiplies row r by `gain`.
    void scale_row(std::size_t r, double gain);
};

// Kernels of bins [first, first + count) for a signal at `rate`: each windowed complex exponential
// normalised by options.norm, centred in n_fft samples (the next power of two at least as long as the
// longest kernel and at least min_n_fft), transformed (bins 0 .. n_fft/2 kept, unscaled), sparsified.
SparseKernels make_sparse_kernels(const CqtOptions& options, const CqtFilterBank& bank, int first, int count,
                                  double rate, int min_n_fft = 2);

}  // namespace mtag::dsp
