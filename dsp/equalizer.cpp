#include "dsp/equalizer.hpp"

#include "dsp/error.hpp"

#include <array>
#include <cmath>
#include <string>

namespace mtag::dsp {

namespace {

void check_range(const char* context, const char* name, double low, double high) {
    if (!std::isfinite(low) || !std::isfinite(high) || low > high)
        throw Error(context, std::string("min_") + name + " must not exceed max_" + name + " (got " +
                                 std::to_string(low) + " > " + std::to_string(high) + ")");
}

double log_uniform(Rng& rng, double low, double high) {
    return std::exp(rng.uniform(std::log(low), std::log(high)));
}

}  // namespace

// ref: librosa.hz_to_mel (Slaney): f_sp = 200/3 Hz per mel below 1 kHz, 27/log(6.4) mels per e-fold above.
double hz_to_mel(double hz) {
    constexpr double f_sp = 200.0 / 3.0;
    constexpr double min_log_hz = 1000.0;
    constexpr double min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    if (hz < min_log_hz) return hz / f_sp;
    return min_log_mel + std::log(hz / min_log_hz) / logstep;
}

double mel_to_hz(double mel) {
    constexpr double f_sp = 200.0 / 3.0;
    constexpr double min_log_hz = 1000.0;
    constexpr double min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    if (mel < min_log_mel) return mel * f_sp;
    return min_log_hz * std::exp(logstep * (mel - min_log_mel));
}

std::vector<BiquadDesign> random_seven_band_eq(const SevenBandEqOptions& options, double sample_rate, Rng& rng) {
    const char* context = "seven-band EQ";
    check_range(context, "gain_db", options.min_gain_db, options.max_gain_db);
    check_range(context, "q", options.min_q, options.max_q);
    if (!(options.min_q > 0.0)) throw Error(context, "min_q must be positive");
    static constexpr std::array<std::array<double, 2>, 7> ranges = {{
        {42, 95}, {91, 204}, {196, 441}, {421, 948}, {909, 2045}, {1957, 4404}, {4216, 9486}}};
    std::vector<BiquadDesign> designs;
    designs.reserve(ranges.size());
    for (std::size_t band = 0; band < ranges.size(); ++band) {
        // Every band draws its three values even when it is dropped, so the draws of the other bands
        // do not depend on the sample rate.
        const double frequency = log_uniform(rng, ranges[band][0], ranges[band][1]);
        const double gain_db = rng.uniform(options.min_gain_db, options.max_gain_db);
        const double q = log_uniform(rng, options.min_q, options.max_q);
        if (frequency >= 0.45 * sample_rate) continue;
        const BiquadType type = band == 0                 ? BiquadType::low_shelf
                                : band + 1 == ranges.size() ? BiquadType::high_shelf
                                                            : BiquadType::peaking;
        designs.push_back({.type = type, .frequency = frequency, .q = q, .gain_db = gain_db});
    }
    return designs;
}

BiquadDesign random_filter(const RandomFilterOptions& options, double sample_rate, Rng& rng) {
    const std::string context = "random " + to_string(options.type) + " filter";
    check_range(context.c_str(), "frequency", options.min_frequency, options.max_frequency);
    check_range(context.c_str(), "gain_db", options.min_gain_db, options.max_gain_db);
    check_range(context.c_str(), "q", options.min_q, options.max_q);
    if (!(options.min_frequency > 0.0)) throw Error(context, "min_frequency must be positive");
    if (!(options.min_q > 0.0)) throw Error(context, "min_q must be positive");
    const double top = std::min(options.max_frequency, 0.45 * sample_rate);
    if (options.min_frequency >= top)
        throw Error(context, "min_frequency " + std::to_string(options.min_frequency) +
                                 " Hz is above 0.45 * sample rate (" + std::to_string(top) + " Hz)");
    const double mel = rng.uniform(hz_to_mel(options.min_frequency), hz_to_mel(top));
    BiquadDesign design;
    design.type = options.type;
    design.frequency = mel_to_hz(mel);
    design.gain_db = rng.uniform(options.min_gain_db, options.max_gain_db);
    design.q = log_uniform(rng, options.min_q, options.max_q);
    return design;
}

void apply_filters(std::span<float> samples, std::span<const BiquadDesign> designs, double sample_rate) {
    std::vector<BiquadCoefficients> sections;
    sections.reserve(designs.size());
    for (const auto& design : designs) sections.push_back(design_biquad(design, sample_rate));
    BiquadCascade cascade(std::move(sections));
    cascade.process(samples);
}

}  // namespace mtag::dsp
