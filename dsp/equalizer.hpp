#pragma once
// Random equalisation for augmentation: a seven-band parametric EQ in the manner of audiomentations'
// SevenBandParametricEQ, and single random peaking / shelf filters with mel-distributed centres.
// ref: audiomentations SevenBandParametricEQ (band ranges), RBJ Audio EQ Cookbook (filters)
#include "dsp/biquad.hpp"
#include "dsp/random.hpp"

#include <span>
#include <vector>

namespace mtag::dsp {

// Options of the seven-band EQ: a low shelf, five peaking bands and a high shelf. Each band's centre is
// drawn log-uniformly in its fixed range (42-95, 91-204, 196-441, 421-948, 909-2045, 1957-4404 and
// 4216-9486 Hz, audiomentations' ranges), its gain uniformly in [min_gain_db, max_gain_db] and its q
// log-uniformly in [min_q, max_q]. Bands at or above 0.45 * sample_rate are left out (low rates).
struct SevenBandEqOptions {
    double min_gain_db = -12.0;
    double max_gain_db = 12.0;
    double min_q = 0.5;
    double max_q = 1.33;
};

// Draws the seven band designs (fewer at low sample rates); validates the options.
std::vector<BiquadDesign> random_seven_band_eq(const SevenBandEqOptions& options, double sample_rate, Rng& rng);

// Options of one random filter: the centre is drawn uniformly on the mel scale (Slaney's mel, as
// librosa.hz_to_mel with htk=False) between min_frequency and max_frequency, so low frequencies are not
// starved as with a uniform draw in Hz; gain uniform in dB, q log-uniform.
struct RandomFilterOptions {
    BiquadType type = BiquadType::peaking;
    double min_frequency = 50.0;
    double max_frequency = 8000.0;  // clipped to 0.45 * sample_rate
    double min_gain_db = -12.0;
    double max_gain_db = 12.0;
    double min_q = 0.5;
    double max_q = 2.0;
};

// Draws one filter design; validates the options (throws mtag::Error naming the option).
BiquadDesign random_filter(const RandomFilterOptions& options, double sample_rate, Rng& rng);

// Designs and runs the given filters in cascade over `samples` in place (fresh state).
void apply_filters(std::span<float> samples, std::span<const BiquadDesign> designs, double sample_rate);

// Slaney mel scale (librosa.hz_to_mel / mel_to_hz with htk=False): linear below 1 kHz, log above.
double hz_to_mel(double hz);
double mel_to_hz(double mel);

}  // namespace mtag::dsp
