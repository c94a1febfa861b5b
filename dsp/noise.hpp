#pragma once
// Additive noise for augmentation: coloured noise with a 1/f^beta power spectrum (white 0, pink 1,
// brown 2) made by spectral shaping, and recorded noise, each mixed at a target signal-to-noise ratio.
#include "dsp/random.hpp"

#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// Power-spectrum exponents of the named colours: power ~ 1 / f^beta.
constexpr double beta_white = 0.0;
constexpr double beta_pink = 1.0;
constexpr double beta_brown = 2.0;

// Parses "white" | "pink" | "brown" (also "red") or a number (the exponent beta itself, in [0, 3]).
double parse_noise_beta(const std::string& text);

// n samples of Gaussian noise whose power spectrum falls as 1/f^beta, with unit RMS. White noise is
// drawn directly (fill_normal, the ziggurat of dsp/random.hpp); other colours shape white noise in the
// frequency domain (amplitude scaled by f^(-beta/2), DC removed) over a power-of-two FFT at least n long,
// whose first n samples are kept.
std::vector<float> coloured_noise(std::size_t n, double beta, Rng& rng);

// Root mean square of a signal (0 for an empty one), accumulated in double precision.
double rms(std::span<const float> samples);

// Adds `noise` scaled so that 20 log10(rms(signal) / rms(added noise)) == snr_db. A silent signal or
// silent noise is left unchanged (there is no level to refer to). noise.size() must equal signal.size().
void mix_at_snr(std::span<float> signal, std::span<const float> noise, double snr_db);

// Adds coloured noise (see coloured_noise) at `snr_db` relative to the signal's RMS.
void add_coloured_noise(std::span<float> signal, double beta, double snr_db, Rng& rng);

// Adds a noise recording at `snr_db`, starting at a random offset in the recording and looping it when it
// is shorter than the signal. The recording must be at the signal's sample rate.
// Returns the offset used (in samples).
std::size_t add_noise_recording(std::span<float> signal, std::span<const float> recording, double snr_db,
                                Rng& rng);

}  // namespace mtag::dsp
