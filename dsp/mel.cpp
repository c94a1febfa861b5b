#include "dsp/mel.hpp"

#include "dsp/error.hpp"
#include "dsp/float8.hpp"
#include "dsp/number_text.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>

namespace mtag::dsp {

namespace {

// ref: librosa.hz_to_mel (Slaney's Auditory Toolbox constants).
constexpr double kSlaneyHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kSlaneyHzPerMel;  // 15
const double kLogStep = std::log(6.4) / 27.0;

// a * b + c rounded once where the CPU has FMA (vectorisable), else plainly; used identically in vector
// and scalar loops so a frame's value does not depend on its position in a batch.
inline float madd(float a, float b, float c) {
#if defined(__FMA__)
    return std::fma(a, b, c);
#else
    return a * b + c;
#endif
}

// numpy.linspace(start, stop, n): start + i * step, the last value exactly stop.
std::vector<double> linspace(double start, double stop, int n) {
    std::vector<double> v(static_cast<std::size_t>(n));
    if (n == 1) {
        v[0] = start;
        return v;
    }
    const double step = (stop - start) / (n - 1);
    for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = start + i * step;
    v.back() = stop;
    return v;
}

// Columns [k_begin, k_end) of `rows` rows (row stride src_stride) into dst[k * dst_stride + j]: 8x8 blocks
// transposed in registers (three rounds of two-register shuffles), the ragged edges one value at a time.
void transpose(const float* src, std::size_t src_stride, std::size_t rows, std::size_t k_begin, std::size_t k_end,
               float* dst, std::size_t dst_stride) {
    std::size_t j = 0;
    for (; j + 8 <= rows; j += 8) {
        const float* s = src + j * src_stride;
        std::size_t k = k_begin;
        for (; k + 8 <= k_end; k += 8) {
            Float8 r[8];
            for (int i = 0; i < 8; ++i) r[i] = load8(s + static_cast<std::size_t>(i) * src_stride + k);
            Float8 t[8], u[8];
            for (int i = 0; i < 8; i += 2) {
                t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
                t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
            }
            for (int i = 0; i < 8; i += 4) {
                u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
                u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
                u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
                u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
            }
            for (int i = 0; i < 4; ++i) {
                store8(dst + (k + static_cast<std::size_t>(i)) * dst_stride + j, __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11));
                store8(dst + (k + static_cast<std::size_t>(i) + 4) * dst_stride + j,
                       __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15));
            }
        }
        for (; k < k_end; ++k)
            for (std::size_t i = 0; i < 8; ++i) dst[k * dst_stride + j + i] = s[i * src_stride + k];
    }
    for (; j < rows; ++j)
        for (std::size_t k = k_begin; k < k_end; ++k) dst[k * dst_stride + j] = src[j * src_stride + k];
}

}  // namespace

MelNorm parse_mel_norm(std::string_view name) {
    if (name == "slaney") return MelNorm::slaney;
    if (name == "none" || name.empty()) return MelNorm::none;
    throw Error("mel norm '" + std::string(name) + "'", "unknown; expected slaney or none");
}

std::string mel_norm_name(MelNorm norm) { return norm == MelNorm::slaney ? "slaney" : "none"; }

double hz_to_mel(double hz, bool htk) {
    if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
    if (hz >= kLogStartHz) return kLogStartMel + std::log(hz / kLogStartHz) / kLogStep;
    return hz / kSlaneyHzPerMel;
}

double mel_to_hz(double mel, bool htk) {
    if (htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    if (mel >= kLogStartMel) return kLogStartHz * std::exp(kLogStep * (mel - kLogStartMel));
    return kSlaneyHzPerMel * mel;
}

std::vector<double> mel_frequencies(int n, double fmin, double fmax, bool htk) {
    std::vector<double> mels = linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n);
    for (double& m : mels) m = mel_to_hz(m, htk);
    return mels;
}

MelFilterbank::MelFilterbank(const MelOptions& options) : m_options(options) {
    MelOptions& o = m_options;
    if (!(o.sample_rate > 0.0))
        throw Error("mel sample_rate", "must be positive, got " + number_text(o.sample_rate));
    if (o.n_fft < 2)
        throw Error("mel n_fft", "must be at least 2, got " + std::to_string(o.n_fft) + " (set MelOptions::n_fft)");
    if (o.n_mels < 1) throw Error("mel n_mels", "must be at least 1, got " + std::to_string(o.n_mels));
    const double nyquist = o.sample_rate / 2.0;
    if (o.fmax == 0.0) o.fmax = nyquist;
    if (o.fmax < 0.0 || o.fmax > nyquist * (1.0 + 1e-9))
        throw Error("mel fmax", number_text(o.fmax) + " Hz cannot exceed Nyquist (" + number_text(nyquist) +
                                    " Hz at sample_rate " + number_text(o.sample_rate) + ")");
    if (o.fmin < 0.0 || o.fmin >= o.fmax)
        throw Error("mel fmin",
                    "must be in [0, fmax=" + number_text(o.fmax) + "), got " + number_text(o.fmin));

    // ref: librosa.filters.mel: triangles between n_mels + 2 mel-spaced edges, evaluated at the FFT bin
    // frequencies (numpy.fft.rfftfreq), all in float64; weights end in float32.
    m_bins = o.n_fft / 2 + 1;
    const double bin_hz = 1.0 / (o.n_fft * (1.0 / o.sample_rate));
    const std::vector<double> edges = mel_frequencies(o.n_mels + 2, o.fmin, o.fmax, o.htk);
    m_start.assign(static_cast<std::size_t>(o.n_mels), 0);
    m_count.assign(static_cast<std::size_t>(o.n_mels), 0);
    m_offset.assign(static_cast<std::size_t>(o.n_mels), 0);
    std::vector<float> row(static_cast<std::size_t>(m_bins));
    bool warn = false;
    for (int m = 0; m < o.n_mels; ++m) {
        const double lo = edges[static_cast<std::size_t>(m)];
        const double mid = edges[static_cast<std::size_t>(m) + 1];
        const double hi = edges[static_cast<std::size_t>(m) + 2];
        const double enorm = o.norm == MelNorm::slaney ? 2.0 / (hi - lo) : 1.0;
        int first = -1, last = -1;
        for (int k = 0; k < m_bins; ++k) {
            const double f = k * bin_hz;
            const double lower = -(lo - f) / (mid - lo);
            const double upper = (hi - f) / (hi - mid);
            float w = static_cast<float>(std::max(0.0, std::min(lower, upper)));
            // librosa multiplies the float32 weights by the float64 norm, then stores float32 again.
            if (o.norm == MelNorm::slaney) w = static_cast<float>(static_cast<double>(w) * enorm);
            row[static_cast<std::size_t>(k)] = w;
            if (w > 0.0f) {
                if (first < 0) first = k;
                last = k;
            }
        }
        m_offset[static_cast<std::size_t>(m)] = m_weights.size();
        if (first < 0) {
            ++m_empty_bands;
            if (lo != 0.0) warn = true;  // librosa ignores an empty first band that starts at 0 Hz
            continue;
        }
        m_used_begin = m_weights.empty() ? first : std::min(m_used_begin, first);
        m_used_end = std::max(m_used_end, last + 1);
        m_start[static_cast<std::size_t>(m)] = first;
        m_count[static_cast<std::size_t>(m)] = last - first + 1;
        m_weights.insert(m_weights.end(), row.begin() + first, row.begin() + last + 1);
    }
    if (warn) {
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true))
            std::fprintf(stderr,
                         "mtag: warning: %d empty mel filter(s) (n_mels=%d, n_fft=%d, sample_rate=%g): "
                         "n_mels is too high or n_fft too low; those bands will be 0\n",
                         m_empty_bands, o.n_mels, o.n_fft, o.sample_rate);
    }
}

std::span<const float> MelFilterbank::band_weights(int m) const {
    const auto i = static_cast<std::size_t>(m);
    return {m_weights.data() + m_offset[i], static_cast<std::size_t>(m_count[i])};
}

FloatMatrix MelFilterbank::dense() const {
    FloatMatrix w(static_cast<std::size_t>(n_mels()), static_cast<std::size_t>(m_bins), 0.0f);
    for (int m = 0; m < n_mels(); ++m) {
        const auto band = band_weights(m);
        std::copy(band.begin(), band.end(), w.row(static_cast<std::size_t>(m)).begin() + band_start(m));
    }
    return w;
}

void MelFilterbank::apply(const float* spectrum, float* mel) const {
    const float* weights = m_weights.data();
    for (std::size_t m = 0; m < m_start.size(); ++m) {
        const float* s = spectrum + m_start[m];
        const float* w = weights + m_offset[m];
        const int n = m_count[m];
        float acc = 0.0f;
        for (int k = 0; k < n; ++k) acc += w[k] * s[k];
        mel[m] = acc;
    }
}

void MelFilterbank::apply(const FloatMatrix& spectrogram, FloatMatrix& out) const {
    if (spectrogram.rows != static_cast<std::size_t>(m_bins))
        throw Error("mel filterbank", "spectrogram has " + std::to_string(spectrogram.rows) + " bins, expected " +
                                          std::to_string(m_bins) + " (1 + n_fft/2)");
    out.resize(static_cast<std::size_t>(n_mels()), spectrogram.cols);
    apply(spectrogram.data.data(), spectrogram.cols, spectrogram.cols, out.data.data(), out.cols);
}

void MelFilterbank::apply(const float* spectrum, std::size_t spectrum_stride, std::size_t frames, float* out,
                          std::size_t out_stride) const {
    // out[m, t] = sum_j w[j] S[start + j, t]: frames in chunks of 16 with the sums held in registers,
    // streaming contiguous rows of S (vectorises to one or two SIMD registers per chunk). Explicit madd in
    // both paths makes a frame's result independent of where it falls in a chunk (blockwise == whole).
    constexpr std::size_t kChunk = 16;
    const std::size_t whole = frames / kChunk * kChunk;
    for (std::size_t m = 0; m < m_start.size(); ++m) {
        float* __restrict dst = out + m * out_stride;
        const float* w = m_weights.data() + m_offset[m];
        const float* band = spectrum + static_cast<std::size_t>(m_start[m]) * spectrum_stride;
        const int n = m_count[m];
        for (std::size_t t0 = 0; t0 < whole; t0 += kChunk) {
            float acc[kChunk] = {};
            const float* __restrict src = band + t0;
            for (int j = 0; j < n; ++j, src += spectrum_stride) {
                const float wj = w[j];
                for (std::size_t l = 0; l < kChunk; ++l) acc[l] = madd(wj, src[l], acc[l]);
            }
            for (std::size_t l = 0; l < kChunk; ++l) dst[t0 + l] = acc[l];
        }
        for (std::size_t t = whole; t < frames; ++t) {
            float acc = 0.0f;
            for (int j = 0; j < n; ++j) acc = madd(w[j], band[static_cast<std::size_t>(j) * spectrum_stride + t], acc);
            dst[t] = acc;
        }
    }
}

FloatMatrix mel_filterbank(const MelOptions& options) { return MelFilterbank(options).dense(); }

namespace {

MelOptions with_stft_n_fft(MelOptions mel, const StftOptions& stft) {
    if (mel.n_fft != 0 && mel.n_fft != stft.n_fft)
        throw Error("mel spectrogram", "MelOptions::n_fft=" + std::to_string(mel.n_fft) + " differs from StftOptions::n_fft=" +
                                           std::to_string(stft.n_fft) + "; leave MelOptions::n_fft at 0");
    mel.n_fft = stft.n_fft;
    return mel;
}

}  // namespace

MelSpectrogram::MelSpectrogram(const StftOptions& stft, const MelOptions& mel, float power)
    : m_stft(stft), m_filterbank(with_stft_n_fft(mel, stft)), m_power(power) {
    if (!(power > 0.0f))
        throw Error("mel spectrogram power",
                    "must be positive (2 power, 1 magnitude), got " + number_text(power));
}

void MelSpectrogram::compute(std::span<const float> x, FloatMatrix& out) const {
    const std::int64_t len = static_cast<std::int64_t>(x.size());
    const std::int64_t frames = m_stft.frame_count(len);
    if (frames == 0)
        throw Error("mel spectrogram", "signal of " + std::to_string(len) + " samples is shorter than n_fft=" +
                                           std::to_string(m_stft.n_fft()) + " with center=false; no frame fits");
    compute_frames({x, 0, len}, 0, frames, out);
}

void MelSpectrogram::compute_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                                    FloatMatrix& out) const {
    const std::size_t n_mels = static_cast<std::size_t>(m_filterbank.n_mels());
    const std::size_t bins = static_cast<std::size_t>(m_stft.bins());
    out.resize(n_mels, static_cast<std::size_t>(std::max<std::int64_t>(n_frames, 0)));
    const std::size_t cols = out.cols;
    float* dst = out.data.data();
    // Per call, not per frame: |X|^power of one batch of frames, transposed to [bins, batch] so the
    // sparse mel product runs as vector multiply-adds along frames and writes rows of `out` directly.
    const std::size_t batch = static_cast<std::size_t>(m_stft.batch_frames());
    std::vector<float> power_t(bins * batch);
    const float power = m_power;
    const std::size_t k_begin = static_cast<std::size_t>(m_filterbank.used_begin());
    const std::size_t k_end = static_cast<std::size_t>(m_filterbank.used_end());
    if (power == 2.0f) {
        // The power spectra come frame by frame (RealFft::forward_power); a blocked transpose turns a batch
        // into [bins, batch]. Bins no band uses are skipped.
        m_stft.power_frames(block, first_frame, n_frames,
                            [&](std::int64_t first, int count, const float* spectra, std::size_t stride) {
                                const std::size_t n = static_cast<std::size_t>(count);
                                transpose(spectra, stride, n, k_begin, k_end, power_t.data(), batch);
                                m_filterbank.apply(power_t.data(), batch, n, dst + first, cols);
                            });
        return;
    }
    m_stft.transform_frames(block, first_frame, n_frames,
                            [&](std::int64_t first, int count, const std::complex<float>* spec, std::size_t stride) {
                                const std::size_t n = static_cast<std::size_t>(count);
                                for (std::size_t k = k_begin; k < k_end; ++k) {
                                    float* p = power_t.data() + k * batch;
                                    for (std::size_t j = 0; j < n; ++j) {
                                        const float a = std::abs(spec[stride * j + k]);
                                        p[j] = power == 1.0f ? a : std::pow(a, power);
                                    }
                                }
                                m_filterbank.apply(power_t.data(), batch, n, dst + first, cols);
                            });
}

}  // namespace mtag::dsp
