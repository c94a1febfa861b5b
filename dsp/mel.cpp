#include "dsp/mel.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstdio>

namespace mtag::dsp {

namespace {

// ref: librosa.hz_to_mel (Slaney's Auditory Toolbox constants).
constexpr double kSlaneyHzPerMel = 200.0 / 3.0;
constexpr double kLogStartHz = 1000.0;
constexpr double kLogStartMel = kLogStartHz / kSlaneyHzPerMel;  // 15
const double kLogStep = std::log(6.4) / 27.0;

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
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
    if (!(o.sample_rate > 0.0)) throw Error("mel sample_rate", "must be positive, got " + number(o.sample_rate));
    if (o.n_fft < 2)
        throw Error("mel n_fft", "must be at least 2, got " + std::to_string(o.n_fft) + " (set MelOptions::n_fft)");
    if (o.n_mels < 1) throw Error("mel n_mels", "must be at least 1, got " + std::to_string(o.n_mels));
    const double nyquist = o.sample_rate / 2.0;
    if (o.fmax == 0.0) o.fmax = nyquist;
    if (o.fmax < 0.0 || o.fmax > nyquist * (1.0 + 1e-9))
        throw Error("mel fmax", number(o.fmax) + " Hz cannot exceed Nyquist (" + number(nyquist) +
                                    " Hz at sample_rate " + number(o.sample_rate) + ")");
    if (o.fmin < 0.0 || o.fmin >= o.fmax)
        throw Error("mel fmin", "must be in [0, fmax=" + number(o.fmax) + "), got " + number(o.fmin));

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
    const std::size_t frames = spectrogram.cols;
    out.resize(static_cast<std::size_t>(n_mels()), frames);
    std::fill(out.data.begin(), out.data.end(), 0.0f);
    // Row-wise accumulation: out[m, :] += w * S[k, :] streams contiguous rows of both matrices.
    for (int m = 0; m < n_mels(); ++m) {
        float* dst = out.row(static_cast<std::size_t>(m)).data();
        const auto band = band_weights(m);
        for (std::size_t j = 0; j < band.size(); ++j) {
            const float* src = spectrogram.row(static_cast<std::size_t>(band_start(m)) + j).data();
            const float w = band[j];
            for (std::size_t t = 0; t < frames; ++t) dst[t] += w * src[t];
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
    if (!(power > 0.0f)) throw Error("mel spectrogram power", "must be positive (2 power, 1 magnitude), got " + number(power));
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
    // Per call, not per frame: one frame of |X|^power and one batch of mel columns.
    std::vector<float> spectrum(bins);
    std::vector<float> mel_batch;
    const float power = m_power;
    m_stft.transform_frames(block, first_frame, n_frames,
                            [&](std::int64_t first, int count, const std::complex<float>* spec, std::size_t stride) {
                                mel_batch.resize(n_mels * static_cast<std::size_t>(count));
                                for (int j = 0; j < count; ++j) {
                                    const std::complex<float>* X = spec + stride * static_cast<std::size_t>(j);
                                    float* p = spectrum.data();
                                    if (power == 2.0f) {
                                        for (std::size_t k = 0; k < bins; ++k)
                                            p[k] = X[k].real() * X[k].real() + X[k].imag() * X[k].imag();
                                    } else if (power == 1.0f) {
                                        for (std::size_t k = 0; k < bins; ++k) p[k] = std::abs(X[k]);
                                    } else {
                                        for (std::size_t k = 0; k < bins; ++k) p[k] = std::pow(std::abs(X[k]), power);
                                    }
                                    m_filterbank.apply(p, mel_batch.data() + n_mels * static_cast<std::size_t>(j));
                                }
                                // [count, n_mels] -> columns first .. first+count of [n_mels, frames].
                                for (std::size_t m = 0; m < n_mels; ++m) {
                                    float* row = dst + m * cols + first;
                                    for (int j = 0; j < count; ++j) row[j] = mel_batch[n_mels * static_cast<std::size_t>(j) + m];
                                }
                            });
}

}  // namespace mtag::dsp
