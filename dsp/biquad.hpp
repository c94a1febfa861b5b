#pragma once
// Second-order IIR filters designed by the RBJ Audio EQ Cookbook formulas, run in transposed direct
// form II with double-precision coefficients and state (sound at low frequencies and high Q, where
// float state loses the poles' precision).
// ref: R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients" (W3C Audio EQ Cookbook)
#include <complex>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// The cookbook's filter shapes. band_pass is the "constant 0 dB peak gain" variant.
enum class BiquadType { peaking, low_shelf, high_shelf, low_pass, high_pass, band_pass };

// Parses "peaking" | "low_shelf" | "high_shelf" | "low_pass" | "high_pass" | "band_pass" (also with '-'
// instead of '_'); throws mtag::Error otherwise.
BiquadType parse_biquad_type(const std::string& name);
std::string to_string(BiquadType type);

// What to design. `frequency` is the centre (peaking, band-pass), the shelf midpoint (shelves: the
// gain there is gain_db / 2) or the -3 dB corner at q = 1/sqrt(2) (low/high-pass).
// `q` sets the bandwidth; for shelves it enters the cookbook's alpha = sin(w0) / (2 q) directly, so
// q = 1/sqrt(2) is the cookbook's shelf slope S = 1. `gain_db` is used by peaking and shelves only.
struct BiquadDesign {
    BiquadType type = BiquadType::peaking;
    double frequency = 1000.0;  // Hz, in (0, sample_rate / 2)
    double q = 0.7071067811865476;
    double gain_db = 0.0;
};

// Normalised coefficients (a0 = 1): y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2].
struct BiquadCoefficients {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;

    // The design's complex response H(e^{jw}) at `frequency` Hz.
    std::complex<double> response(double frequency, double sample_rate) const;
    // 20 log10 |H| at `frequency` Hz.
    double magnitude_db(double frequency, double sample_rate) const;
    // True when both poles lie strictly inside the unit circle (the stability triangle).
    bool stable() const;
};

// Designs one biquad; throws mtag::Error when the frequency is not in (0, Nyquist), q <= 0, or the
// gain is not finite.
BiquadCoefficients design_biquad(const BiquadDesign& design, double sample_rate);

// One biquad section with its state. Process blocks in order; reset() between unrelated signals.
class Biquad {
public:
    Biquad() = default;
    explicit Biquad(const BiquadCoefficients& coefficients) : m_c(coefficients) {}

    // Filters in place (transposed direct form II, double state).
    void process(std::span<float> samples);
    void reset() { m_s1 = m_s2 = 0.0; }
    const BiquadCoefficients& coefficients() const { return m_c; }

private:
    BiquadCoefficients m_c;
    double m_s1 = 0.0;
    double m_s2 = 0.0;
};

// Cascaded second-order sections, applied block by block: each section runs over a cached block of
// 256 samples and the values stay in double precision between sections.
class BiquadCascade {
public:
    BiquadCascade() = default;
    explicit BiquadCascade(std::vector<BiquadCoefficients> sections);

    void process(std::span<float> samples);
    void reset();
    // Product of the sections' responses, in dB.
    double magnitude_db(double frequency, double sample_rate) const;
    std::size_t size() const { return m_sections.size(); }

private:
    std::vector<BiquadCoefficients> m_sections;
    std::vector<double> m_state;  // two values per section
};

}  // namespace mtag::dsp
