#pragma once
// Constant-Q transform (and variable-Q, with `gamma`) with librosa >= 0.10 semantics.
// ref: librosa.cqt / librosa.vqt (core/constantq.py), librosa.filters.wavelet / wavelet_lengths;
//      Schoerkhuber & Klapuri, "Constant-Q transform toolbox for music processing", SMC 2010.
//
// Bin k has centre f_k = fmin * 2^(tuning / B) * 2^(k / B) (B = bins_per_octave) and a Hann-windowed
// (by default) complex exponential kernel of Q * sr / (f_k + gamma / alpha) samples, with relative
// bandwidth alpha = (2^(2/B) - 1) / (2^(2/B) + 1) and Q = filter_scale / alpha. Kernels are applied in the
// FFT domain, one octave at a time, sparsified; after each octave the signal is decimated by two (a
// half-band FIR, dsp/halfband.hpp, standing in for librosa's soxr resampler) and the hop halved, while the
// hop stays even, so every octave costs about the same. Frame t is centred on input sample t * hop_length,
// as in a centred STFT with the same hop: frames = 1 + len / hop_length.
//
// Where it can differ from librosa: (1) the decimator (flat to 0.9 of the new Nyquist, >= 100 dB stopband)
// is not soxr_hq, so decimated octaves differ slightly where a signal has energy near the decimated Nyquist;
// (2) unlike librosa 0.7 (but like >= 0.9) a hop_length with few factors of two is accepted: decimation
// stops when the hop turns odd and the remaining octaves run at that rate, with larger FFTs (still ~700x
// real time at hop 441, 22.05 kHz).
#include "dsp/fft.hpp"
#include "dsp/halfband.hpp"
#include "dsp/matrix.hpp"

#include <complex>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::dsp {

// How frames reaching past either end of the signal are filled (librosa's `pad_mode` for the centred
// frames; librosa >= 0.9 defaults to constant, i.e. zeros).
enum class CqtPadMode { constant, reflect };

// Parses "constant" (or "zeros") | "reflect", as dsp/stft.hpp's parse_pad_mode; throws mtag::Error otherwise.
CqtPadMode parse_cqt_pad_mode(std::string_view name);
std::string to_string(CqtPadMode mode);

// Parameters, named and defaulted as librosa.cqt's.
struct CqtOptions {
    double sample_rate = 22050.0;
    int hop_length = 512;
    double fmin = 32.70319566257483;  // C1 (MIDI 24) in Hz
    int n_bins = 84;
    int bins_per_octave = 12;
    double tuning = 0.0;        // offset of fmin in fractions of a bin
    double filter_scale = 1.0;  // > 1: longer kernels, finer frequency resolution
    // Each time-domain kernel is divided by its p-norm (1: sum of magnitudes, as librosa's default;
    // infinity: the largest magnitude); nullopt leaves kernels unnormalised.
    std::optional<double> norm = 1.0;
    double sparsity = 0.01;  // drop each FFT kernel's smallest values, up to this fraction of its L1 mass
    std::string window = "hann";  // periodic; any name dsp/window.hpp parses: hann, hamming, blackman, ones
    // true: divide bin k by sqrt(length_k), so white noise of unit variance gives about 1 in every bin
    // (librosa's scale=True); false: no length scaling.
    bool scale = true;
    CqtPadMode pad_mode = CqtPadMode::constant;
    // Variable-Q bandwidth offset in Hz: 0 is the constant-Q transform (librosa.cqt); a positive value
    // shortens the low kernels (librosa.vqt); nullopt picks librosa.vqt's default, 24.7 * alpha / 0.108,
    // which makes bandwidths proportional to the ERB scale.
    std::optional<double> gamma = 0.0;
};

// A constant-Q transform plan: kernels for every octave built and options validated once; compute() then
// allocates nothing once its buffers have grown to the signal's size. Not thread-safe (it owns scratch
// buffers): use one Cqt per thread.
class Cqt {
public:
    // Throws mtag::Error naming the option when an option is out of range or the top kernel reaches past
    // the Nyquist frequency.
    explicit Cqt(const CqtOptions& options);
    ~Cqt();
    Cqt(Cqt&&) noexcept;
    Cqt& operator=(Cqt&&) noexcept;

    const CqtOptions& options() const { return m_options; }
    int n_bins() const { return m_options.n_bins; }
    // Centre frequency of every bin in Hz, lowest first.
    std::span<const double> frequencies() const { return m_frequencies; }
    // Kernel length of every bin in (fractional) samples at the input rate, as
    // librosa.filters.wavelet_lengths.
    std::span<const double> lengths() const { return m_lengths; }
    // Number of octave bands, ceil(n_bins / bins_per_octave): the top one runs after early_decimations()
    // decimations of the input (librosa's "early downsampling", when the top kernel lies far below
    // Nyquist), each lower one after one more, while the hop stays even.
    int n_octaves() const;
    int early_decimations() const { return m_early_decimations; }

    // For computing long signals in segments (streaming): frame t depends only on input samples within
    // reach() of its centre t * hop_length (its FFT window at every octave's rate plus the decimators'
    // filters). A segment that starts at a multiple of alignment() (the hop and every decimation step)
    // yields frames identical to the whole-signal transform for every frame whose reach lies inside it.
    std::size_t reach() const;
    std::size_t alignment() const;

    // Frames compute() returns for a signal of n samples: 1 + n / hop_length (librosa can add one when
    // early decimation applies and n is just short of a hop multiple; this follows it).
    std::size_t n_frames(std::size_t n_samples) const;

    // Magnitude |C| as [n_bins, frames] (row 0 = lowest bin). Throws mtag::Error on an empty signal.
    void compute(std::span<const float> x, FloatMatrix& out);
    // The complex transform (librosa.cqt's return value) as [n_bins, frames].
    void compute_complex(std::span<const float> x, ComplexMatrix& out);

private:
    struct Level;
    template <class Sink>
    void run(std::span<const float> x, std::size_t frames, Sink&& sink);

    CqtOptions m_options;
    std::vector<double> m_frequencies;
    std::vector<double> m_lengths;
    int m_early_decimations = 0;
    std::vector<Level> m_levels;
    HalfbandDecimator m_decimator;
    std::vector<float> m_signal_a, m_signal_b;  // ping-pong buffers for the decimated signal
    // Every frame is copied into aligned memory, so FFTW always runs its SIMD plan (and the same plan,
    // whatever the input's alignment: results do not depend on where a segment starts).
    FftBuffer<float> m_frame;
    FftBuffer<std::complex<float>> m_spectrum;
};

}  // namespace mtag::dsp
