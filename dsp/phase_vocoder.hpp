#pragma once
// Time stretching by a phase vocoder: STFT -> re-timed frames with propagated phases -> inverse STFT.
// The frame timing follows librosa.effects.time_stretch / librosa.phase_vocoder (centred frames with
// zero padding, periodic Hann window, magnitude interpolated between neighbouring analysis frames,
// output length round(len / rate)). Beyond librosa, identity phase locking is the default.
//
// ref: Laroche & Dolson 1999, "Improved phase vocoder time-scale modification of audio" (identity
//      phase locking); librosa.phase_vocoder (plain vocoder, frame timing)
//
// Transients: any phase vocoder smears an attack over about one window (n_fft samples, ~93 ms at the
// default). Identity phase locking keeps the partials of one peak region coherent, which removes most
// of the "phasiness" of the plain vocoder and keeps attacks sharper than it does; for percussive
// material a smaller n_fft (e.g. 512 at 22.05 kHz) trades frequency resolution for crisper onsets.
#include "dsp/matrix.hpp"

#include <complex>
#include <memory>
#include <span>
#include <vector>

namespace mtag::dsp {

// How output phases are made. `none` is librosa's plain vocoder (each bin advances on its own);
// `identity` locks every bin to the nearest spectral peak's phase (Laroche & Dolson's identity locking).
enum class PhaseLocking { none, identity };

// The default analysis size: 2048 at 22.05 kHz, scaled with the sample rate (so the window stays ~93 ms)
// and rounded to the nearest multiple of 4 whose prime factors are 2, 3 and 5 (fast FFTW sizes, hop
// n_fft / 4 exact): 16 kHz -> 1500, 22.05 kHz -> 2048, 44.1 kHz -> 4096, 48 kHz -> 4500, 8 kHz -> 720.
int default_stretch_n_fft(int sample_rate);

// Options of the time stretcher, validated when a TimeStretcher is built.
struct TimeStretchOptions {
    int sample_rate = 22050;  // only used for the default n_fft
    int n_fft = 0;            // 0: default_stretch_n_fft(sample_rate); even, >= 16
    int hop_length = 0;       // 0: n_fft / 4
    PhaseLocking phase_locking = PhaseLocking::identity;
};

// Allowed stretch rates: [0.25, 4] (speed factor: > 1 shortens, < 1 lengthens).
constexpr double min_stretch_rate = 0.25;
constexpr double max_stretch_rate = 4.0;

// A reusable time stretcher: buffers are kept between calls, nothing is allocated per frame. One object
// per thread (process() is not const); building one is cheap (FFT plans are cached process-wide).
class TimeStretcher {
public:
    explicit TimeStretcher(const TimeStretchOptions& options = {});
    ~TimeStretcher();
    TimeStretcher(TimeStretcher&&) noexcept;
    TimeStretcher& operator=(TimeStretcher&&) noexcept;

    // Stretches x by `rate` into `out`, which gets exactly round(x.size() / rate) samples.
    // Throws mtag::Error when rate is outside [0.25, 4].
    void process(std::span<const float> x, double rate, std::vector<float>& out);

    int n_fft() const { return m_n_fft; }
    int hop_length() const { return m_hop; }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    int m_n_fft = 0;
    int m_hop = 0;
};

// One-shot time stretch (librosa.effects.time_stretch with phase locking by default).
std::vector<float> time_stretch(std::span<const float> x, double rate, const TimeStretchOptions& options = {});

// The phase vocoder on a spectrogram [bins, frames] (as librosa.phase_vocoder(D, rate, hop_length)):
// returns [bins, ceil(frames / rate)] frames. n_fft is taken as 2 * (bins - 1).
ComplexMatrix phase_vocoder(const ComplexMatrix& stft, double rate, int hop_length,
                            PhaseLocking locking = PhaseLocking::identity);

}  // namespace mtag::dsp
