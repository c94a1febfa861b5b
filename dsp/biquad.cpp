#include "dsp/biquad.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mtag::dsp {

BiquadType parse_biquad_type(const std::string& name) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    if (key == "peaking" || key == "peak") return BiquadType::peaking;
    if (key == "low_shelf" || key == "lowshelf") return BiquadType::low_shelf;
    if (key == "high_shelf" || key == "highshelf") return BiquadType::high_shelf;
    if (key == "low_pass" || key == "lowpass") return BiquadType::low_pass;
    if (key == "high_pass" || key == "highpass") return BiquadType::high_pass;
    if (key == "band_pass" || key == "bandpass") return BiquadType::band_pass;
    throw Error("filter type '" + name + "'",
                "unknown; expected peaking, low_shelf, high_shelf, low_pass, high_pass or band_pass");
}

std::string to_string(BiquadType type) {
    switch (type) {
        case BiquadType::peaking:
            return "peaking";
        case BiquadType::low_shelf:
            return "low_shelf";
        case BiquadType::high_shelf:
            return "high_shelf";
        case BiquadType::low_pass:
            return "low_pass";
        case BiquadType::high_pass:
            return "high_pass";
        case BiquadType::band_pass:
            return "band_pass";
    }
    return "peaking";
}

std::complex<double> BiquadCoefficients::response(double frequency, double sample_rate) const {
    const double w = 2.0 * std::numbers::pi * frequency / sample_rate;
    const std::complex<double> z1 = std::polar(1.0, -w);  // z^-1
    const std::complex<double> z2 = z1 * z1;
    return (b0 + b1 * z1 + b2 * z2) / (1.0 + a1 * z1 + a2 * z2);
}

double BiquadCoefficients::magnitude_db(double frequency, double sample_rate) const {
    return 20.0 * std::log10(std::abs(response(frequency, sample_rate)));
}

bool BiquadCoefficients::stable() const {
    return std::abs(a2) < 1.0 && std::abs(a1) < 1.0 + a2;
}

BiquadCoefficients design_biquad(const BiquadDesign& d, double sample_rate) {
    const std::string context = to_string(d.type) + " filter";
    if (!(sample_rate > 0.0)) throw Error(context, "sample rate must be positive");
    if (!(d.frequency > 0.0 && d.frequency < sample_rate / 2.0))
        throw Error(context, "frequency " + std::to_string(d.frequency) + " Hz must lie in (0, " +
                                 std::to_string(sample_rate / 2.0) + ") Hz (Nyquist at this sample rate)");
    if (!(d.q > 0.0) || !std::isfinite(d.q))
        throw Error(context, "q must be positive, got " + std::to_string(d.q));
    if (!std::isfinite(d.gain_db)) throw Error(context, "gain_db must be finite");

    const double w0 = 2.0 * std::numbers::pi * d.frequency / sample_rate;
    const double cw = std::cos(w0);
    const double alpha = std::sin(w0) / (2.0 * d.q);
    const double A = std::pow(10.0, d.gain_db / 40.0);  // sqrt of the linear gain
    double b0 = 1, b1 = 0, b2 = 0, a0 = 1, a1 = 0, a2 = 0;
    switch (d.type) {
        case BiquadType::low_pass:
            b0 = (1.0 - cw) / 2.0;
            b1 = 1.0 - cw;
            b2 = b0;
            a0 = 1.0 + alpha;
            a1 = -2.0 * cw;
            a2 = 1.0 - alpha;
            break;
        case BiquadType::high_pass:
            b0 = (1.0 + cw) / 2.0;
            b1 = -(1.0 + cw);
            b2 = b0;
            a0 = 1.0 + alpha;
            a1 = -2.0 * cw;
            a2 = 1.0 - alpha;
            break;
        case BiquadType::band_pass:
            b0 = alpha;
            b1 = 0.0;
            b2 = -alpha;
            a0 = 1.0 + alpha;
            a1 = -2.0 * cw;
            a2 = 1.0 - alpha;
            break;
        case BiquadType::peaking:
            b0 = 1.0 + alpha * A;
            b1 = -2.0 * cw;
            b2 = 1.0 - alpha * A;
            a0 = 1.0 + alpha / A;
            a1 = -2.0 * cw;
            a2 = 1.0 - alpha / A;
            break;
        case BiquadType::low_shelf: {
            const double s = 2.0 * std::sqrt(A) * alpha;
            b0 = A * ((A + 1.0) - (A - 1.0) * cw + s);
            b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw);
            b2 = A * ((A + 1.0) - (A - 1.0) * cw - s);
            a0 = (A + 1.0) + (A - 1.0) * cw + s;
            a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw);
            a2 = (A + 1.0) + (A - 1.0) * cw - s;
            break;
        }
        case BiquadType::high_shelf: {
            const double s = 2.0 * std::sqrt(A) * alpha;
            b0 = A * ((A + 1.0) + (A - 1.0) * cw + s);
            b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw);
            b2 = A * ((A + 1.0) + (A - 1.0) * cw - s);
            a0 = (A + 1.0) - (A - 1.0) * cw + s;
            a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw);
            a2 = (A + 1.0) - (A - 1.0) * cw - s;
            break;
        }
    }
    return {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

void Biquad::process(std::span<float> samples) {
    const BiquadCoefficients c = m_c;
    double s1 = m_s1, s2 = m_s2;
    for (float& sample : samples) {
        const double x = sample;
        const double y = c.b0 * x + s1;
        s1 = c.b1 * x - c.a1 * y + s2;
        s2 = c.b2 * x - c.a2 * y;
        sample = static_cast<float>(y);
    }
    m_s1 = s1;
    m_s2 = s2;
}

BiquadCascade::BiquadCascade(std::vector<BiquadCoefficients> sections)
    : m_sections(std::move(sections)), m_state(2 * m_sections.size(), 0.0) {}

namespace {

// Runs N consecutive sections over a block, sample by sample, with their states in registers. Each
// section's recurrence is a chain of dependent multiply-adds, so one section at a time is bound by their
// latency; N sections in one loop give the CPU N independent chains to overlap (section k of sample i
// runs alongside section k+1 of sample i-1). Same operations in the same order: bit-identical output.
template <std::size_t N>
void run_sections(const BiquadCoefficients* c, double* state, double* buffer, std::size_t count) {
    double s1[N], s2[N];
    for (std::size_t k = 0; k < N; ++k) {
        s1[k] = state[2 * k];
        s2[k] = state[2 * k + 1];
    }
    for (std::size_t i = 0; i < count; ++i) {
        double x = buffer[i];
        for (std::size_t k = 0; k < N; ++k) {
            const double y = c[k].b0 * x + s1[k];
            s1[k] = c[k].b1 * x - c[k].a1 * y + s2[k];
            s2[k] = c[k].b2 * x - c[k].a2 * y;
            x = y;
        }
        buffer[i] = x;
    }
    for (std::size_t k = 0; k < N; ++k) {
        state[2 * k] = s1[k];
        state[2 * k + 1] = s2[k];
    }
}

}  // namespace

void BiquadCascade::process(std::span<float> samples) {
    const std::size_t n = m_sections.size();
    if (n == 0) return;
    // Blocks keep the signal in cache while every section runs over it in double precision.
    constexpr std::size_t block = 256;
    double buffer[block];
    for (std::size_t start = 0; start < samples.size(); start += block) {
        const std::size_t count = std::min(block, samples.size() - start);
        for (std::size_t i = 0; i < count; ++i) buffer[i] = samples[start + i];
        // Groups of up to four sections per pass (a seven-band EQ: 4 + 3).
        for (std::size_t k = 0; k < n;) {
            const BiquadCoefficients* c = m_sections.data() + k;
            double* state = m_state.data() + 2 * k;
            switch (std::min<std::size_t>(n - k, 4)) {
                case 4: run_sections<4>(c, state, buffer, count); k += 4; break;
                case 3: run_sections<3>(c, state, buffer, count); k += 3; break;
                case 2: run_sections<2>(c, state, buffer, count); k += 2; break;
                default: run_sections<1>(c, state, buffer, count); k += 1; break;
            }
        }
        for (std::size_t i = 0; i < count; ++i) samples[start + i] = static_cast<float>(buffer[i]);
    }
}

void BiquadCascade::reset() {
    std::fill(m_state.begin(), m_state.end(), 0.0);
}

double BiquadCascade::magnitude_db(double frequency, double sample_rate) const {
    double db = 0.0;
    for (const auto& c : m_sections) db += c.magnitude_db(frequency, sample_rate);
    return db;
}

}  // namespace mtag::dsp
