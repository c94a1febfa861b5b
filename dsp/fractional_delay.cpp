#include "dsp/fractional_delay.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <string>

namespace mtag::dsp {

namespace {

// 120 dB Kaiser design. ref: Kaiser's formulas, Oppenheim & Schafer, Discrete-Time Signal Processing 7.6.
constexpr double kDelayAttenuationDb = 120.0;

}  // namespace

FractionalDelay::FractionalDelay(double advance, double cutoff) : m_advance(advance) {
    if (!(advance > 0.0 && advance < 1.0) || !(cutoff > 0.0 && cutoff < 0.5))
        throw Error("fractional delay", "advance " + std::to_string(advance) + " must be in (0, 1) and cutoff " +
                                            std::to_string(cutoff) + " in (0, 0.5)");
    const double beta = 0.1102 * (kDelayAttenuationDb - 8.7);
    // The low-pass edge sits half-way between the cutoff and Nyquist; the transition spans the rest.
    const double edge = (cutoff + 0.5) / 2.0;
    const double transition = 0.5 - cutoff;
    const double order = (kDelayAttenuationDb - 7.95) / (2.285 * 2.0 * std::numbers::pi * transition);
    m_half = std::max(4, static_cast<int>(std::ceil(order / 2.0)));
    const double i0_beta = std::cyl_bessel_i(0.0, beta);
    m_taps.resize(static_cast<std::size_t>(2 * m_half));
    double sum = 0.0;
    std::vector<double> taps(m_taps.size());
    for (int j = 0; j < 2 * m_half; ++j) {
        // Tap j multiplies x[k + m] with m = j - half + 1; the ideal tap is 2 edge sinc(2 edge (m - d)).
        const double t = (j - m_half + 1) - advance;
        const double r = t / (m_half + 0.5);
        const double window = r * r < 1.0 ? std::cyl_bessel_i(0.0, beta * std::sqrt(1.0 - r * r)) / i0_beta : 0.0;
        const double x = 2.0 * edge * t;
        const double sinc = std::abs(x) < 1e-12 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
        taps[static_cast<std::size_t>(j)] = 2.0 * edge * sinc * window;
        sum += taps[static_cast<std::size_t>(j)];
    }
    for (std::size_t j = 0; j < taps.size(); ++j) m_taps[j] = static_cast<float>(taps[j] / sum);  // unit DC gain
    m_buffer.assign(static_cast<std::size_t>(m_half - 1), 0.0f);
}

namespace {

std::complex<double> response_at(const std::vector<float>& taps, int half, double f) {
    std::complex<double> h = 0.0;
    for (std::size_t j = 0; j < taps.size(); ++j) {
        const double m = static_cast<double>(static_cast<int>(j) - half + 1);
        h += static_cast<double>(taps[j]) * std::polar(1.0, 2.0 * std::numbers::pi * f * m);
    }
    return h;
}

}  // namespace

double FractionalDelay::magnitude_error(double f) const {
    return std::abs(std::abs(response_at(m_taps, m_half, f)) - 1.0);
}

double FractionalDelay::phase_error(double f) const {
    const std::complex<double> h = response_at(m_taps, m_half, f);
    return std::abs(std::arg(h * std::polar(1.0, -2.0 * std::numbers::pi * f * m_advance)));
}

void FractionalDelay::emit(std::vector<float>& out, std::size_t count) {
    // m_buffer[i] holds x[m_next - half + 1 + i].
    const std::size_t taps = m_taps.size();
    const std::size_t first = out.size();
    out.resize(first + count);
    float* __restrict y = out.data() + first;
    std::fill_n(y, count, 0.0f);
    // Taps outer, samples inner: the inner loop runs over contiguous memory and vectorises; blocks keep the
    // output in L1 across the tap loop.
    constexpr std::size_t kBlock = 1024;
    for (std::size_t k0 = 0; k0 < count; k0 += kBlock) {
        const std::size_t k1 = std::min(count, k0 + kBlock);
        for (std::size_t j = 0; j < taps; ++j) {
            const float c = m_taps[j];
            const float* __restrict x = m_buffer.data() + j;
            for (std::size_t k = k0; k < k1; ++k) y[k] += c * x[k];
        }
    }
    m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(count));
    m_next += count;
}

void FractionalDelay::process(std::span<const float> x, std::vector<float>& out) {
    m_buffer.insert(m_buffer.end(), x.begin(), x.end());
    m_received += x.size();
    // Output k needs x[k + half]: ready while k + half < received.
    const std::size_t ready = m_received > static_cast<std::size_t>(m_half) ? m_received - m_half : 0;
    if (ready > m_next) emit(out, ready - m_next);
}

void FractionalDelay::finish(std::vector<float>& out) {
    if (m_next >= m_received) return;
    m_buffer.insert(m_buffer.end(), static_cast<std::size_t>(m_half), 0.0f);
    emit(out, m_received - m_next);
}

}  // namespace mtag::dsp
