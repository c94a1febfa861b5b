#include "dsp/cqt_kernels.hpp"

#include "dsp/error.hpp"
#include "dsp/number_text.hpp"
#include "dsp/window.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>

namespace mtag::dsp {

namespace {

Error option_error(const std::string& option, const std::string& problem) {
    return Error("cqt option " + option, problem);
}

// In-place iterative radix-2 complex FFT in double precision, numpy's sign convention (e^{-2 pi i k n / N}).
// Used only to build kernels, once per plan; n is a power of two.
void fft_double(std::vector<std::complex<double>>& a) {
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const double angle = -2.0 * std::numbers::pi / static_cast<double>(len);
        for (std::size_t i = 0; i < n; i += len) {
            for (std::size_t k = 0; k < len / 2; ++k) {
                const std::complex<double> w = std::polar(1.0, angle * static_cast<double>(k));
                const std::complex<double> u = a[i + k];
                const std::complex<double> v = a[i + k + len / 2] * w;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
            }
        }
    }
}

int next_pow2(double x) {
    int n = 1;
    while (n < x) n <<= 1;
    return n;
}

}  // namespace

CqtFilterBank::CqtFilterBank(const CqtOptions& o) {
    if (!(o.sample_rate > 0) || !std::isfinite(o.sample_rate))
        throw option_error("sample_rate", "must be positive, got " + number_text(o.sample_rate));
    if (o.hop_length < 1)
        throw option_error("hop_length", "must be at least 1, got " + std::to_string(o.hop_length));
    if (!(o.fmin > 0) || !std::isfinite(o.fmin))
        throw option_error("fmin", "must be positive, got " + number_text(o.fmin));
    if (o.n_bins < 1) throw option_error("n_bins", "must be at least 1, got " + std::to_string(o.n_bins));
    if (o.bins_per_octave < 1)
        throw option_error("bins_per_octave", "must be at least 1, got " + std::to_string(o.bins_per_octave));
    if (!(o.filter_scale > 0))
        throw option_error("filter_scale", "must be positive, got " + number_text(o.filter_scale));
    if (o.norm && !(*o.norm > 0))
        throw option_error("norm",
                           "must be positive (1, 2, ..., infinity) or none, got " + number_text(*o.norm));
    if (!(o.sparsity >= 0 && o.sparsity < 1))
        throw option_error("sparsity", "must be in [0, 1), got " + number_text(o.sparsity));
    if (o.gamma && !(*o.gamma >= 0))
        throw option_error("gamma", "must be non-negative, got " + number_text(*o.gamma));
    if (!std::isfinite(o.tuning)) throw option_error("tuning", "must be finite");

    // Periodic windows as scipy.signal.get_window(..., fftbins=True) makes them, with librosa's equivalent
    // noise bandwidths (librosa.filters.WINDOW_BANDWIDTHS), which set how far the top kernel reaches.
    WindowKind kind;
    try {
        kind = parse_window_kind(o.window);
    } catch (const Error& e) {
        throw option_error("window", e.what());
    }
    double bandwidth = 1.0;
    a0 = 1.0;
    switch (kind) {
        case WindowKind::hann:
            a0 = 0.5, a1 = 0.5, bandwidth = 1.50018310546875;
            break;
        case WindowKind::hamming:
            a0 = 0.54, a1 = 0.46, bandwidth = 1.3629455320350348;
            break;
        case WindowKind::blackman:
            a0 = 0.42, a1 = 0.5, a2 = 0.08, bandwidth = 1.7269681554262326;
            break;
        case WindowKind::rectangular:
            break;
    }

    // ref: librosa.vqt, filters.wavelet_lengths.
    const int bpo = o.bins_per_octave;
    const double two_b = std::pow(2.0, 2.0 / bpo);
    alpha = (two_b - 1.0) / (two_b + 1.0);
    q = o.filter_scale / alpha;
    gamma = o.gamma ? *o.gamma : 24.7 * alpha / 0.108;
    const double fmin = o.fmin * std::pow(2.0, o.tuning / bpo);
    frequencies.resize(static_cast<std::size_t>(o.n_bins));
    lengths.resize(frequencies.size());
    for (int k = 0; k < o.n_bins; ++k) {
        const double f = fmin * std::pow(2.0, static_cast<double>(k) / bpo);
        frequencies[k] = f;
        lengths[k] = length_at(k, o.sample_rate);
        cutoff = std::max(cutoff, f * (1.0 + 0.5 * bandwidth / q) + 0.5 * gamma);
    }
    const double nyquist = o.sample_rate / 2.0;
    if (cutoff > nyquist)
        throw Error("cqt options", "the top bin (" + number_text(frequencies.back()) +
                                       " Hz) has a kernel reaching " + number_text(cutoff) +
                                       " Hz, above the Nyquist frequency " + number_text(nyquist) +
                                       " Hz of sample_rate " + number_text(o.sample_rate) +
                                       "; reduce n_bins or fmin, or raise sample_rate");
}

void SparseKernels::scale_row(std::size_t r, double gain) {
    const std::size_t width = static_cast<std::size_t>(hi[r] - lo[r]);
    for (std::size_t k = 0; k < width; ++k) values[offset[r] + k] *= static_cast<float>(gain);
}

SparseKernels make_sparse_kernels(const CqtOptions& o, const CqtFilterBank& bank, int first, int count,
                                  double rate, int min_n_fft) {
    SparseKernels out;
    std::vector<double> len(static_cast<std::size_t>(count));
    for (int r = 0; r < count; ++r) len[r] = bank.length_at(first + r, rate);
    // librosa.filters.wavelet(pad_fft=True): one power-of-two size for the band.
    out.n_fft = std::max({2, min_n_fft, next_pow2(*std::max_element(len.begin(), len.end()))});
    const int n_fft = out.n_fft;
    const std::size_t n_half = static_cast<std::size_t>(n_fft / 2 + 1);

    std::vector<std::complex<double>> buf(static_cast<std::size_t>(n_fft));
    std::vector<double> mags(n_half), sorted(n_half);
    for (int r = 0; r < count; ++r) {
        const double f = bank.frequencies[first + r];
        // np.arange(-ilen // 2, ilen // 2): sample positions floor(-len/2) .. floor(len/2) - 1.
        const double start = std::floor(-len[r] / 2.0);
        const int n = static_cast<int>(std::floor(len[r] / 2.0) - start);
        std::vector<std::complex<double>> kernel(static_cast<std::size_t>(n));
        for (int j = 0; j < n; ++j) {
            const double t = 2.0 * std::numbers::pi * j / n;
            // scipy makes a one-sample window [1] whatever its kind.
            const double w = n == 1 ? 1.0 : bank.a0 - bank.a1 * std::cos(t) + bank.a2 * std::cos(2.0 * t);
            kernel[j] = std::polar(w, 2.0 * std::numbers::pi * f / rate * (start + j));
        }
        if (o.norm) {  // librosa.util.normalize
            double norm = 0;
            if (std::isinf(*o.norm)) {
                for (const auto& v : kernel) norm = std::max(norm, std::abs(v));
            } else {
                for (const auto& v : kernel) norm += std::pow(std::abs(v), *o.norm);
                norm = std::pow(norm, 1.0 / *o.norm);
            }
            if (norm > std::numeric_limits<double>::min())
                for (auto& v : kernel) v /= norm;
        }
        // Centred as librosa.util.pad_center: (n_fft - n) / 2 zeros before.
        std::fill(buf.begin(), buf.end(), std::complex<double>{});
        std::copy(kernel.begin(), kernel.end(), buf.begin() + (n_fft - n) / 2);
        fft_double(buf);

        // Sparsify (librosa.util.sparsify_rows): keep the values at least as large as the one where the
        // ascending cumulative L1 mass first reaches `sparsity`.
        double total = 0;
        for (std::size_t k = 0; k < n_half; ++k) total += (mags[k] = std::abs(buf[k]));
        sorted = mags;
        std::sort(sorted.begin(), sorted.end());
        double threshold = sorted.front();
        double cumulative = 0;
        for (std::size_t k = 0; k < n_half; ++k) {
            cumulative += sorted[k] / total;
            if (!(cumulative < o.sparsity)) {
                threshold = sorted[k];
                break;
            }
        }
        int lo = 0, hi = 0;
        for (std::size_t k = 0; k < n_half; ++k)
            if (mags[k] >= threshold) {
                lo = static_cast<int>(k);
                break;
            }
        for (std::size_t k = n_half; k-- > 0;)
            if (mags[k] >= threshold) {
                hi = static_cast<int>(k) + 1;
                break;
            }
        out.lo.push_back(lo);
        out.hi.push_back(hi);
        out.offset.push_back(out.values.size());
        for (int k = lo; k < hi; ++k) {
            const auto v = mags[k] >= threshold ? buf[k] : std::complex<double>{};
            out.values.emplace_back(static_cast<float>(v.real()), static_cast<float>(v.imag()));
        }
    }
    return out;
}

}  // namespace mtag::dsp
