#include "dsp/cqt.hpp"

#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <numeric>

namespace mtag::dsp {

// One octave of kernels, applied to the signal at this octave's (decimated) rate.
struct Cqt::Level {
    double sample_rate = 0;  // rate of the signal this octave sees
    int hop = 0;             // hop at that rate
    int n_fft = 0;
    int first_row = 0;       // output rows [first_row, first_row + n_rows)
    int n_rows = 0;
    bool decimate_after = false;
    std::shared_ptr<const RealFft> fft;
    // Sparse FFT-domain kernels: row r uses spectrum bins [lo[r], hi[r]) with values starting at offset[r];
    // values inside the range that sparsification dropped are stored as zeros.
    std::vector<int> lo, hi;
    std::vector<std::size_t> offset;
    std::vector<std::complex<float>> values;
};

namespace {

std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

Error option_error(const std::string& option, const std::string& problem) {
    return Error("cqt option " + option, problem);
}

// Periodic windows (scipy.signal.get_window(..., fftbins=True)) and librosa's equivalent noise bandwidths
// (librosa.filters.WINDOW_BANDWIDTHS), which set how far the top kernel reaches above its centre.
struct WindowSpec {
    const char* name;
    double a0, a1, a2;  // w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)
    double bandwidth;
};
constexpr WindowSpec kWindows[] = {
    {"hann", 0.5, 0.5, 0.0, 1.50018310546875},
    {"hamming", 0.54, 0.46, 0.0, 1.3629455320350348},
    {"blackman", 0.42, 0.5, 0.08, 1.7269681554262326},
    {"rectangular", 1.0, 0.0, 0.0, 1.0},
    {"boxcar", 1.0, 0.0, 0.0, 1.0},
};

const WindowSpec& find_window(const std::string& name) {
    for (const auto& w : kWindows)
        if (name == w.name) return w;
    throw option_error("window", "unknown window '" + name +
                                     "'; expected hann, hamming, blackman, rectangular or boxcar");
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

int two_factors(int x) {
    int count = 0;
    while (x > 0 && x % 2 == 0) {
        x /= 2;
        ++count;
    }
    return count;
}

// Index into a signal of length n for numpy.pad(mode='reflect') (edge sample not repeated), any distance out.
std::size_t reflect_index(std::ptrdiff_t i, std::size_t n) {
    if (n == 1) return 0;
    const std::ptrdiff_t period = 2 * (static_cast<std::ptrdiff_t>(n) - 1);
    i %= period;
    if (i < 0) i += period;
    if (i >= static_cast<std::ptrdiff_t>(n)) i = period - i;
    return static_cast<std::size_t>(i);
}

}  // namespace

CqtPadMode parse_cqt_pad_mode(std::string_view name) {
    if (name == "constant") return CqtPadMode::constant;
    if (name == "reflect") return CqtPadMode::reflect;
    throw option_error("pad_mode", "unknown mode '" + std::string(name) + "'; expected constant or reflect");
}

std::string to_string(CqtPadMode mode) { return mode == CqtPadMode::reflect ? "reflect" : "constant"; }

Cqt::~Cqt() = default;
Cqt::Cqt(Cqt&&) noexcept = default;
Cqt& Cqt::operator=(Cqt&&) noexcept = default;

Cqt::Cqt(const CqtOptions& options) : m_options(options) {
    const CqtOptions& o = m_options;
    if (!(o.sample_rate > 0) || !std::isfinite(o.sample_rate))
        throw option_error("sample_rate", "must be positive, got " + fmt(o.sample_rate));
    if (o.hop_length < 1) throw option_error("hop_length", "must be at least 1, got " + std::to_string(o.hop_length));
    if (!(o.fmin > 0) || !std::isfinite(o.fmin)) throw option_error("fmin", "must be positive, got " + fmt(o.fmin));
    if (o.n_bins < 1) throw option_error("n_bins", "must be at least 1, got " + std::to_string(o.n_bins));
    if (o.bins_per_octave < 1)
        throw option_error("bins_per_octave", "must be at least 1, got " + std::to_string(o.bins_per_octave));
    if (!(o.filter_scale > 0)) throw option_error("filter_scale", "must be positive, got " + fmt(o.filter_scale));
    if (o.norm && !(*o.norm > 0))
        throw option_error("norm", "must be positive (1, 2, ..., infinity) or none, got " + fmt(*o.norm));
    if (!(o.sparsity >= 0 && o.sparsity < 1))
        throw option_error("sparsity", "must be in [0, 1), got " + fmt(o.sparsity));
    if (o.gamma && !(*o.gamma >= 0)) throw option_error("gamma", "must be non-negative, got " + fmt(*o.gamma));
    if (!std::isfinite(o.tuning)) throw option_error("tuning", "must be finite");
    const WindowSpec& window = find_window(o.window);

    // ref: librosa.vqt, filters.wavelet_lengths.
    const int bpo = o.bins_per_octave;
    const double two_b = std::pow(2.0, 2.0 / bpo);
    const double alpha = (two_b - 1.0) / (two_b + 1.0);
    const double q = o.filter_scale / alpha;
    const double gamma = o.gamma ? *o.gamma : 24.7 * alpha / 0.108;
    const double fmin = o.fmin * std::pow(2.0, o.tuning / bpo);
    m_frequencies.resize(static_cast<std::size_t>(o.n_bins));
    m_lengths.resize(m_frequencies.size());
    double cutoff = 0;
    for (int k = 0; k < o.n_bins; ++k) {
        const double f = fmin * std::pow(2.0, static_cast<double>(k) / bpo);
        m_frequencies[k] = f;
        m_lengths[k] = q * o.sample_rate / (f + gamma / alpha);
        cutoff = std::max(cutoff, f * (1.0 + 0.5 * window.bandwidth / q) + 0.5 * gamma);
    }
    const double nyquist = o.sample_rate / 2.0;
    if (cutoff > nyquist)
        throw Error("cqt options", "the top bin (" + fmt(m_frequencies.back()) + " Hz) has a kernel reaching " +
                                       fmt(cutoff) + " Hz, above the Nyquist frequency " + fmt(nyquist) +
                                       " Hz of sample_rate " + fmt(o.sample_rate) +
                                       "; reduce n_bins or fmin, or raise sample_rate");

    // Early decimation (librosa.__early_downsample_count): start at a lower rate when the whole transform
    // lies far below Nyquist and the hop has factors of two to spare.
    const int n_octaves = (o.n_bins + bpo - 1) / bpo;
    const int count1 = std::max(0, static_cast<int>(std::ceil(std::log2(nyquist / cutoff))) - 2);
    const int count2 = std::max(0, two_factors(o.hop_length) - n_octaves + 1);
    m_early_decimations = std::min(count1, count2);

    const int n_filters = std::min(bpo, o.n_bins);
    double level_rate = o.sample_rate / std::pow(2.0, m_early_decimations);
    int level_hop = o.hop_length >> m_early_decimations;
    m_levels.resize(static_cast<std::size_t>(n_octaves));
    std::size_t max_bins = 0;
    int max_fft = 0;
    for (int i = 0; i < n_octaves; ++i) {
        Level& level = m_levels[i];
        const int end = o.n_bins - n_filters * i;
        level.first_row = std::max(0, end - n_filters);
        level.n_rows = end - level.first_row;
        level.sample_rate = level_rate;
        level.hop = level_hop;

        // Kernels at this octave's rate (librosa.filters.wavelet with pad_fft=True).
        std::vector<double> len(level.n_rows);
        for (int r = 0; r < level.n_rows; ++r) {
            const double f = m_frequencies[level.first_row + r];
            len[r] = q * level_rate / (f + gamma / alpha);
        }
        level.n_fft = std::max(2, next_pow2(*std::max_element(len.begin(), len.end())));
        const int n_fft = level.n_fft;
        level.fft = real_fft(n_fft);
        const std::size_t n_half = static_cast<std::size_t>(n_fft / 2 + 1);

        std::vector<std::complex<double>> buf(static_cast<std::size_t>(n_fft));
        std::vector<double> mags(n_half), sorted(n_half);
        for (int r = 0; r < level.n_rows; ++r) {
            const int row = level.first_row + r;
            const double f = m_frequencies[row];
            // np.arange(-ilen // 2, ilen // 2): floor(-len/2) .. floor(len/2) - 1.
            const double start = std::floor(-len[r] / 2.0);
            const int count = static_cast<int>(std::floor(len[r] / 2.0) - start);
            std::vector<std::complex<double>> kernel(static_cast<std::size_t>(count));
            for (int j = 0; j < count; ++j) {
                const double phase = 2.0 * std::numbers::pi * f / level_rate * (start + j);
                const double t = 2.0 * std::numbers::pi * j / count;
                const double w = window.a0 - window.a1 * std::cos(t) + window.a2 * std::cos(2.0 * t);
                kernel[j] = std::polar(w, phase);
            }
            if (o.norm) {
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
            std::fill(buf.begin(), buf.end(), std::complex<double>{});
            const int lpad = (n_fft - count) / 2;
            std::copy(kernel.begin(), kernel.end(), buf.begin() + lpad);
            fft_double(buf);

            // Every scale factor of librosa folded into one: basis * len_level / n_fft, times sqrt(2) per
            // decimation on the signal and on the basis, over sqrt(length at the input rate) when `scale`.
            // All of it reduces to sqrt(L) / n_fft (scale) or L / n_fft, with L the length at the input rate;
            // the decimator here has unit gain.
            const double length = m_lengths[row];
            const double gain = (o.scale ? std::sqrt(length) : length) / n_fft;

            // Sparsify (librosa.util.sparsify_rows): keep values at least as large as the one where the
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
            level.lo.push_back(lo);
            level.hi.push_back(hi);
            level.offset.push_back(level.values.size());
            for (int k = lo; k < hi; ++k) {
                const auto v = mags[k] >= threshold ? buf[k] * gain : std::complex<double>{};
                level.values.emplace_back(static_cast<float>(v.real()), static_cast<float>(v.imag()));
            }
        }
        max_bins = std::max(max_bins, n_half);
        max_fft = std::max(max_fft, n_fft);

        // librosa halves rate and hop after an octave only while the hop is even.
        level.decimate_after = (i + 1 < n_octaves) && level_hop % 2 == 0;
        if (level.decimate_after) {
            level_hop /= 2;
            level_rate /= 2.0;
        }
    }
    m_frame.resize(static_cast<std::size_t>(max_fft));
    m_spectrum.resize(max_bins);
}

int Cqt::n_octaves() const { return static_cast<int>(m_levels.size()); }

std::size_t Cqt::n_frames(std::size_t n_samples) const {
    // librosa.__trim_stack keeps the fewest frames of any octave; each octave's STFT has 1 + len / hop.
    std::size_t n = n_samples;
    for (int e = 0; e < m_early_decimations; ++e) n = (n + 1) / 2;
    std::size_t frames = std::numeric_limits<std::size_t>::max();
    for (const Level& level : m_levels) {
        frames = std::min(frames, 1 + n / static_cast<std::size_t>(level.hop));
        if (level.decimate_after) n = (n + 1) / 2;
    }
    return frames;
}

template <class Sink>
void Cqt::run(std::span<const float> x, std::size_t frames, Sink&& sink) {
    std::span<const float> signal = x;
    std::vector<float>* next = &m_signal_a;
    auto decimate = [&] {
        m_decimator.process(signal, *next);
        signal = *next;
        next = (next == &m_signal_a) ? &m_signal_b : &m_signal_a;
    };
    for (int e = 0; e < m_early_decimations; ++e) decimate();

    for (const Level& level : m_levels) {
        const std::size_t n = signal.size();
        const std::ptrdiff_t half = level.n_fft / 2;
        for (std::size_t t = 0; t < frames; ++t) {
            // Frame t covers samples [t * hop - n_fft / 2, t * hop + n_fft / 2) (librosa.stft, center=True).
            const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(t) * level.hop - half;
            const float* frame;
            if (start >= 0 && start + level.n_fft <= static_cast<std::ptrdiff_t>(n)) {
                frame = signal.data() + start;
            } else {
                for (std::ptrdiff_t i = 0; i < level.n_fft; ++i) {
                    const std::ptrdiff_t s = start + i;
                    if (s >= 0 && s < static_cast<std::ptrdiff_t>(n))
                        m_frame[i] = signal[s];
                    else
                        m_frame[i] = m_options.pad_mode == CqtPadMode::reflect ? signal[reflect_index(s, n)] : 0.0f;
                }
                frame = m_frame.data();
            }
            level.fft->forward(frame, m_spectrum.data());
            const float* spec = reinterpret_cast<const float*>(m_spectrum.data());
            for (int r = 0; r < level.n_rows; ++r) {
                // sum_k K[k] X[k] (no conjugate, as librosa's fft_basis.dot(D)).
                const float* kern = reinterpret_cast<const float*>(level.values.data() + level.offset[r]);
                const float* xs = spec + 2 * level.lo[r];
                const int width = level.hi[r] - level.lo[r];
                float re = 0, im = 0;
                for (int k = 0; k < width; ++k) {
                    const float kr = kern[2 * k], ki = kern[2 * k + 1];
                    const float xr = xs[2 * k], xi = xs[2 * k + 1];
                    re += kr * xr - ki * xi;
                    im += kr * xi + ki * xr;
                }
                sink(static_cast<std::size_t>(level.first_row + r), t, re, im);
            }
        }
        if (level.decimate_after) decimate();
    }
}

namespace {

void check_input(std::size_t n, int early_decimations) {
    if (n == 0) throw Error("cqt", "the input signal is empty");
    // librosa refuses a signal shorter than its early decimation factor, which would leave nothing to analyse.
    if (n < (std::size_t{1} << early_decimations))
        throw Error("cqt", "the input signal of " + std::to_string(n) + " samples is shorter than the early " +
                               "decimation factor " + std::to_string(1 << early_decimations));
}

}  // namespace

void Cqt::compute(std::span<const float> x, FloatMatrix& out) {
    check_input(x.size(), m_early_decimations);
    const std::size_t frames = n_frames(x.size());
    out.resize(static_cast<std::size_t>(m_options.n_bins), frames);
    float* data = out.data.data();
    run(x, frames, [data, frames](std::size_t row, std::size_t t, float re, float im) {
        data[row * frames + t] = std::sqrt(re * re + im * im);
    });
}

void Cqt::compute_complex(std::span<const float> x, ComplexMatrix& out) {
    check_input(x.size(), m_early_decimations);
    const std::size_t frames = n_frames(x.size());
    out.resize(static_cast<std::size_t>(m_options.n_bins), frames);
    std::complex<float>* data = out.data.data();
    run(x, frames, [data, frames](std::size_t row, std::size_t t, float re, float im) {
        data[row * frames + t] = {re, im};
    });
}

}  // namespace mtag::dsp
