#include "dsp/halfband.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mtag::dsp {

namespace {

// Design: transition band 0.225 .. 0.275 cycles per input sample (0.9 .. 1.1 of the output Nyquist),
// 110 dB Kaiser design. ref: Kaiser's formulas, Oppenheim & Schafer, Discrete-Time Signal Processing 7.6.
constexpr double kHalfbandAttenuationDb = 110.0;
constexpr double kTransition = 0.05;

}  // namespace

HalfbandDecimator::HalfbandDecimator() {
    const double beta = 0.1102 * (kHalfbandAttenuationDb - 8.7);
    const double order = (kHalfbandAttenuationDb - 7.95) / (2.285 * 2.0 * std::numbers::pi * kTransition);
    // Half length M, rounded up to an odd number so the outermost taps are the (non-zero) odd ones.
    int half = static_cast<int>(std::ceil(order / 2.0));
    if (half % 2 == 0) ++half;
    const double i0_beta = std::cyl_bessel_i(0.0, beta);
    auto kaiser = [&](int k) {
        const double r = static_cast<double>(k) / half;
        return std::cyl_bessel_i(0.0, beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
    };
    // Ideal half-band low-pass: h[k] = sin(pi k / 2) / (pi k), h[0] = 1/2; zero at even k != 0.
    std::vector<double> odd;
    double sum = 0.5;
    for (int k = 1; k <= half; k += 2) {
        const double h = std::sin(std::numbers::pi * k / 2.0) / (std::numbers::pi * k) * kaiser(k);
        odd.push_back(h);
        sum += 2.0 * h;
    }
    // Normalise to unit DC gain.
    m_centre = static_cast<float>(0.5 / sum);
    m_odd_taps.resize(odd.size());
    for (std::size_t j = 0; j < odd.size(); ++j) m_odd_taps[j] = static_cast<float>(odd[j] / sum);
}

double HalfbandDecimator::response(double f) const {
    double h = m_centre;
    for (std::size_t j = 0; j < m_odd_taps.size(); ++j) {
        const double k = 2.0 * static_cast<double>(j) + 1.0;
        h += 2.0 * m_odd_taps[j] * std::cos(2.0 * std::numbers::pi * f * k);
    }
    return std::abs(h);
}

void HalfbandDecimator::process(std::span<const float> x, std::vector<float>& out) {
    // Polyphase form: with xe[i] = x[2i] and xo[i] = x[2i + 1],
    //   y[m] = h0 xe[m] + sum_j h[2j+1] (xo[m - 1 - j] + xo[m + j]),
    // so every inner loop runs over contiguous memory and vectorises.
    const std::size_t n = x.size();
    const std::size_t n_out = (n + 1) / 2;
    const std::size_t n_odd = n / 2;
    const std::size_t taps = m_odd_taps.size();
    const std::size_t pad = taps;
    out.resize(n_out);
    m_odd.assign(pad + n_out + taps + 1, 0.0f);
    for (std::size_t i = 0; i < n_odd; ++i) m_odd[pad + i] = x[2 * i + 1];

    float* __restrict y = out.data();
    const float* xo = m_odd.data() + pad;
    constexpr std::size_t kBlock = 1024;  // keeps the output block in L1 across the tap loop
    for (std::size_t m0 = 0; m0 < n_out; m0 += kBlock) {
        const std::size_t m1 = std::min(n_out, m0 + kBlock);
        for (std::size_t m = m0; m < m1; ++m) y[m] = m_centre * x[2 * m];
        for (std::size_t j = 0; j < taps; ++j) {
            const float c = m_odd_taps[j];
            const float* __restrict before = xo - 1 - j;
            const float* __restrict after = xo + j;
            for (std::size_t m = m0; m < m1; ++m) y[m] += c * (before[m] + after[m]);
        }
    }
}

}  // namespace mtag::dsp
