#include "dsp/cqt.hpp"

#include "dsp/cqt_kernels.hpp"
#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mtag::dsp {

// One octave of kernels, applied to the signal at this octave's (decimated) rate.
struct Cqt::Level {
    int hop = 0;        // hop at this octave's rate
    int first_row = 0;  // output rows [first_row, first_row + kernels.rows())
    bool decimate_after = false;
    SparseKernels kernels;
    std::shared_ptr<const RealFft> fft;
};

namespace {

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
    if (name == "constant" || name == "zeros") return CqtPadMode::constant;
    if (name == "reflect") return CqtPadMode::reflect;
    throw Error("cqt option pad_mode",
                "unknown mode '" + std::string(name) + "'; expected constant (zeros) or reflect");
}

std::string to_string(CqtPadMode mode) {
    return mode == CqtPadMode::reflect ? "reflect" : "constant";
}

Cqt::~Cqt() = default;
Cqt::Cqt(Cqt&&) noexcept = default;
Cqt& Cqt::operator=(Cqt&&) noexcept = default;

Cqt::Cqt(const CqtOptions& options) : m_options(options) {
    const CqtOptions& o = m_options;
    const CqtFilterBank bank(o);  // validates the options
    m_frequencies = bank.frequencies;
    m_lengths = bank.lengths;

    // Early decimation (librosa.__early_downsample_count): start at a lower rate when the whole transform
    // lies far below Nyquist and the hop has factors of two to spare.
    const int bpo = o.bins_per_octave;
    const int n_octaves = (o.n_bins + bpo - 1) / bpo;
    const double nyquist = o.sample_rate / 2.0;
    const int count1 = std::max(0, static_cast<int>(std::ceil(std::log2(nyquist / bank.cutoff))) - 2);
    const int count2 = std::max(0, two_factors(o.hop_length) - n_octaves + 1);
    m_early_decimations = std::min(count1, count2);

    // Octave i (from the top) holds bins [n_bins - B (i + 1), n_bins - B i), the lowest one possibly fewer.
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
        level.hop = level_hop;
        level.kernels = make_sparse_kernels(o, bank, level.first_row, end - level.first_row, level_rate);
        const int n_fft = level.kernels.n_fft;
        level.fft = real_fft(n_fft);
        // Every scale factor of librosa folded into one: basis * length_at_level / n_fft, sqrt(2) per
        // decimation on the signal and again on the basis, over sqrt(length at the input rate) when `scale`.
        // With this unit-gain decimator it all reduces to sqrt(L) / n_fft (scale) or L / n_fft, L the length
        // at the input rate.
        for (std::size_t r = 0; r < level.kernels.rows(); ++r) {
            const double length = m_lengths[level.first_row + r];
            level.kernels.scale_row(r, (o.scale ? std::sqrt(length) : length) / n_fft);
        }
        max_bins = std::max(max_bins, static_cast<std::size_t>(n_fft / 2 + 1));
        max_fft = std::max(max_fft, n_fft);

        // librosa halves rate and hop after an octave only while the hop is even.
        level.decimate_after = (i + 1 < n_octaves) && level_hop % 2 == 0;
        if (level.decimate_after) {
            level_hop /= 2;
            level_rate /= 2.0;
        }
    }
    m_frame = fft_alloc_real(static_cast<std::size_t>(max_fft));
    m_spectrum = fft_alloc_complex(max_bins);
}

int Cqt::n_octaves() const {
    return static_cast<int>(m_levels.size());
}

std::size_t Cqt::reach() const {
    // A sample after d decimations depends on input samples within half_length * (2^d - 1) of its instant.
    const std::size_t filter = static_cast<std::size_t>(m_decimator.half_length());
    std::size_t factor = std::size_t{1} << m_early_decimations;
    std::size_t reach = 0;
    for (const Level& level : m_levels) {
        reach = std::max(reach,
                         static_cast<std::size_t>(level.kernels.n_fft / 2) * factor + filter * (factor - 1));
        if (level.decimate_after) factor *= 2;
    }
    return reach;
}

std::size_t Cqt::alignment() const {
    std::size_t factor = std::size_t{1} << m_early_decimations;
    for (const Level& level : m_levels)
        if (level.decimate_after) factor *= 2;
    return std::lcm(static_cast<std::size_t>(m_options.hop_length), factor);
}

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
        const int n_fft = level.kernels.n_fft;
        const std::ptrdiff_t half = n_fft / 2;
        for (std::size_t t = 0; t < frames; ++t) {
            // Frame t covers samples [t * hop - n_fft / 2, t * hop + n_fft / 2) (librosa.stft, center=True).
            const std::ptrdiff_t start = static_cast<std::ptrdiff_t>(t) * level.hop - half;
            float* frame = m_frame.get();
            if (start >= 0 && start + n_fft <= static_cast<std::ptrdiff_t>(n)) {
                std::copy_n(signal.data() + start, n_fft, frame);
            } else {
                for (std::ptrdiff_t i = 0; i < n_fft; ++i) {
                    const std::ptrdiff_t s = start + i;
                    if (s >= 0 && s < static_cast<std::ptrdiff_t>(n))
                        frame[i] = signal[s];
                    else
                        frame[i] =
                            m_options.pad_mode == CqtPadMode::reflect ? signal[reflect_index(s, n)] : 0.0f;
                }
            }
            level.fft->forward(frame, m_spectrum.get());
            const float* spec = reinterpret_cast<const float*>(m_spectrum.get());
            const SparseKernels& kernels = level.kernels;
            for (std::size_t r = 0; r < kernels.rows(); ++r) {
                // sum_k K[k] X[k] (no conjugate, as librosa's fft_basis.dot(D)).
                const float* kern = reinterpret_cast<const float*>(kernels.values.data() + kernels.offset[r]);
                const float* xs = spec + 2 * kernels.lo[r];
                const int width = kernels.hi[r] - kernels.lo[r];
                float re = 0, im = 0;
                for (int k = 0; k < width; ++k) {
                    const float kr = kern[2 * k], ki = kern[2 * k + 1];
                    const float xr = xs[2 * k], xi = xs[2 * k + 1];
                    re += kr * xr - ki * xi;
                    im += kr * xi + ki * xr;
                }
                sink(static_cast<std::size_t>(level.first_row) + r, t, re, im);
            }
        }
        if (level.decimate_after) decimate();
    }
}

namespace {

void check_input(std::size_t n, int early_decimations) {
    if (n == 0) throw Error("cqt", "the input signal is empty");
    // librosa refuses a signal shorter than its early decimation factor, which would leave nothing to
    // analyse.
    if (n < (std::size_t{1} << early_decimations))
        throw Error("cqt", "the input signal of " + std::to_string(n) +
                               " samples is shorter than the early " + "decimation factor " +
                               std::to_string(1 << early_decimations));
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
