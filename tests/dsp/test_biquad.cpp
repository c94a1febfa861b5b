#include "dsp/biquad.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

using namespace mtag::dsp;

namespace {

// The filter's impulse response, run through Biquad::process (float samples, double state), long enough
// for the slowest pole to decay by e^-40.
std::vector<float> impulse_response(const BiquadCoefficients& c, double frequency, double q, double sample_rate) {
    const double time_constant = std::max(1.0, q) * sample_rate / (std::numbers::pi * frequency);
    const auto n = static_cast<std::size_t>(std::min(40.0 * time_constant + 4096.0, double(1 << 21)));
    std::vector<float> h(n, 0.0f);
    h[0] = 1.0f;
    Biquad filter(c);
    filter.process(h);
    return h;
}

// |DTFT of h| at `frequency`, in dB, summed in double precision.
double measured_db(const std::vector<float>& h, double frequency, double sample_rate) {
    const double w = 2.0 * std::numbers::pi * frequency / sample_rate;
    const std::complex<double> step = std::polar(1.0, -w);
    std::complex<double> phasor = 1.0, sum = 0.0;
    for (std::size_t i = 0; i < h.size(); ++i) {
        sum += static_cast<double>(h[i]) * phasor;
        phasor *= step;
        if ((i & 1023) == 1023) phasor /= std::abs(phasor);  // keep the recursion on the unit circle
    }
    return 20.0 * std::log10(std::abs(sum));
}

// What the cookbook promises at the design frequency.
double expected_db_at_frequency(const BiquadDesign& d) {
    switch (d.type) {
        case BiquadType::peaking: return d.gain_db;
        case BiquadType::low_shelf:
        case BiquadType::high_shelf: return d.gain_db / 2.0;
        case BiquadType::low_pass:
        case BiquadType::high_pass: return 20.0 * std::log10(d.q);
        case BiquadType::band_pass: return 0.0;
    }
    return 0.0;
}

}  // namespace

TEST_CASE("biquad: measured impulse response equals the design within 0.1 dB, 8-48 kHz") {
    const BiquadType types[] = {BiquadType::peaking,  BiquadType::low_shelf, BiquadType::high_shelf,
                                BiquadType::low_pass, BiquadType::high_pass, BiquadType::band_pass};
    int checked = 0;
    for (double sample_rate : {8000.0, 16000.0, 22050.0, 44100.0, 48000.0}) {
        for (BiquadType type : types) {
            for (double frequency : {30.0, 250.0, 1000.0, 0.3 * sample_rate}) {
                for (double q : {0.5, 0.7071, 4.0, 20.0}) {
                    for (double gain_db : {-12.0, 9.0}) {
                        const BiquadDesign design{.type = type, .frequency = frequency, .q = q, .gain_db = gain_db};
                        const BiquadCoefficients c = design_biquad(design, sample_rate);
                        INFO(to_string(type) << " f=" << frequency << " q=" << q << " gain=" << gain_db
                                             << " sr=" << sample_rate);
                        REQUIRE(c.stable());
                        // The design itself keeps the cookbook's promise at its frequency.
                        REQUIRE(c.magnitude_db(frequency, sample_rate) ==
                                Approx(expected_db_at_frequency(design)).margin(1e-6));
                        const std::vector<float> h = impulse_response(c, frequency, q, sample_rate);
                        REQUIRE(std::all_of(h.begin(), h.end(), [](float v) { return std::isfinite(v); }));
                        // Decayed: the tail is negligible (a stable filter at high Q and low frequency).
                        const float peak = *std::max_element(h.begin(), h.end(), [](float a, float b) {
                            return std::abs(a) < std::abs(b);
                        });
                        REQUIRE(std::abs(h.back()) < 1e-6 * std::abs(peak) + 1e-12);
                        for (double f : {frequency, frequency / 2.0, std::min(frequency * 2.0, 0.45 * sample_rate)}) {
                            const double design_db = c.magnitude_db(f, sample_rate);
                            if (design_db < -60.0) continue;  // deep stop band: float noise dominates
                            REQUIRE(measured_db(h, f, sample_rate) == Approx(design_db).margin(0.1));
                        }
                        ++checked;
                    }
                }
            }
        }
    }
    REQUIRE(checked == 5 * 6 * 4 * 4 * 2);
}

TEST_CASE("biquad: a cascade's response is the sum of its sections' in dB and state carries across blocks") {
    const double sr = 44100.0;
    const BiquadCascade reference({design_biquad({.type = BiquadType::low_shelf, .frequency = 100, .gain_db = 6}, sr),
                                   design_biquad({.type = BiquadType::peaking, .frequency = 2000, .q = 2, .gain_db = -9}, sr)});
    REQUIRE(reference.magnitude_db(2000, sr) ==
            Approx(design_biquad({.type = BiquadType::low_shelf, .frequency = 100, .gain_db = 6}, sr).magnitude_db(2000, sr) - 9.0)
                .margin(1e-9));
    std::vector<float> x(5000);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.01 * i * i));
    std::vector<float> whole = x, pieces = x;
    BiquadCascade a = reference, b = reference;
    a.process(whole);
    b.process(std::span<float>(pieces).subspan(0, 1234));
    b.process(std::span<float>(pieces).subspan(1234));
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(pieces[i] == whole[i]);
}

TEST_CASE("biquad: bad designs are rejected with the option named") {
    REQUIRE_THROWS_WITH(design_biquad({.frequency = 30000}, 44100), Catch::Contains("Nyquist"));
    REQUIRE_THROWS_WITH(design_biquad({.frequency = 1000, .q = 0}, 44100), Catch::Contains("q must be positive"));
    REQUIRE_THROWS_WITH(parse_biquad_type("notch"), Catch::Contains("unknown"));
    REQUIRE(parse_biquad_type("low-shelf") == BiquadType::low_shelf);
}
