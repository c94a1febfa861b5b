#pragma once
// Short-time Fourier transform and its inverse, numerically librosa's (>= 0.9): librosa.stft / istft.
//
// Conventions a reader could guess wrong:
// - Output layout is [bins, frames] (row-major), bins = 1 + n_fft/2, as librosa returns it.
// - The window (periodic by default, see dsp/window.hpp) of win_length samples is zero-padded to n_fft,
//   centred; the FFT is unnormalised (numpy.fft.rfft), so a full-scale sine gives |X| ~ sum(window)/2.
// - center = true pads n_fft/2 samples on both sides (zeros for pad_mode constant, librosa's default
//   since 0.9; mirror without repeating the edge sample for reflect, torchaudio's default), and frame t
//   is centred on sample t*hop_length. center = false: frame t starts at sample t*hop_length.
// - Frame count: 1 + len/hop centred, 1 + (len - n_fft)/hop not centred (integer division).
#include "dsp/matrix.hpp"
#include "dsp/window.hpp"

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::dsp {

class RealFft;

// How samples beyond the signal's ends are made up when center = true.
enum class PadMode {
    constant,  // zeros (librosa >= 0.9 default)
    reflect,   // x[-k] = x[k], x[len-1+k] = x[len-1-k] (numpy.pad 'reflect'; torch.stft default)
};

// Parses "constant" / "zeros" and "reflect"; throws mtag::Error otherwise.
PadMode parse_pad_mode(std::string_view name);
// "constant" or "reflect".
std::string pad_mode_name(PadMode mode);

// ref: librosa.stft parameters (same names and defaults).
struct StftOptions {
    int n_fft = 2048;         // FFT size (frame length after zero-padding the window)
    int hop_length = 0;       // samples between frames; 0 => win_length / 4
    int win_length = 0;       // window length, <= n_fft; 0 => n_fft
    WindowKind window = WindowKind::hann;  // periodic window
    bool center = true;       // pad n_fft/2 on both sides so frame t is centred on sample t*hop
    PadMode pad_mode = PadMode::constant;  // padding used when center = true
};

// A block of a (possibly longer) signal: samples [offset, offset + samples.size()) of a signal of
// `length` samples. Used to stream long files through the STFT in pieces.
struct SignalBlock {
    std::span<const float> samples;
    std::int64_t offset = 0;
    std::int64_t length = 0;
};

// Half-open sample range [begin, end) of the signal.
struct SampleRange {
    std::int64_t begin = 0;
    std::int64_t end = 0;
};

// An STFT plan: validated options, the padded window and the FFT plan, built once and reused.
// All compute functions are const and thread-safe; each call allocates its scratch once (nothing per frame).
class Stft {
public:
    // Validates the options (throws mtag::Error naming the offending option) and resolves the defaults.
    explicit Stft(const StftOptions& options);
    ~Stft();

    // The options with defaults resolved (hop_length and win_length never 0).
    const StftOptions& options() const { return m_options; }
    int n_fft() const { return m_options.n_fft; }
    int hop_length() const { return m_options.hop_length; }
    int bins() const { return m_options.n_fft / 2 + 1; }
    // The analysis window zero-padded (centred) to n_fft samples.
    std::span<const float> window() const { return m_window; }

    // Number of frames for a signal of `length` samples (0 when center = false and length < n_fft).
    std::int64_t frame_count(std::int64_t length) const;

    // Complex STFT of x into out, shaped [bins, frame_count(x.size())].
    // Throws mtag::Error when x yields no frame (center = false and x shorter than n_fft, or an empty
    // signal with reflect padding).
    void compute(std::span<const float> x, ComplexMatrix& out) const;
    // |X| (magnitude spectrogram), shaped [bins, frames].
    void magnitude(std::span<const float> x, FloatMatrix& out) const;
    // |X|^2 (power spectrogram), shaped [bins, frames].
    void power(std::span<const float> x, FloatMatrix& out) const;

    // Streaming. Frames [first_frame, first_frame + n_frames) of a signal of `length` samples need the
    // samples in the returned range (it includes what reflect padding mirrors at the ends). Consecutive
    // blocks of frames therefore overlap by about n_fft - hop_length samples. The total length must be
    // known up front (it fixes the frame count and the right-hand padding). A long file in blocks:
    //   for (f0 = 0; f0 < frame_count(length); f0 += B) {
    //       n = min(B, frame_count(length) - f0);
    //       r = samples_for_frames(f0, n, length);            // read samples [r.begin, r.end) into buf
    //       compute_frames({buf, r.begin, length}, f0, n, part);  // columns f0 .. f0+n-1
    //   }
    SampleRange samples_for_frames(std::int64_t first_frame, std::int64_t n_frames, std::int64_t length) const;
    // Frames [first_frame, first_frame + n_frames) into out, shaped [bins, n_frames]. The block must cover
    // samples_for_frames(first_frame, n_frames, block.length) (throws mtag::Error otherwise). The result is
    // identical to the same columns of compute() on the whole signal.
    void compute_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                        ComplexMatrix& out) const;

    // |X|^power (1: magnitude, 2: power) for a frame range, shaped [bins, n_frames]; as compute_frames.
    void spectrogram_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames, float power,
                            FloatMatrix& out) const;

    // Low-level access for fused consumers (mel, CQT): transforms the frames and calls
    // sink(first, count, spectra, stride) for consecutive batches, where spectra[j * stride + k] is bin k of
    // frame first + j (first is relative to first_frame). The spectra buffer is only valid during the call.
    // Frames per batch handed to a sink (at most this many).
    int batch_frames() const;
    using SpectrumSink = std::function<void(std::int64_t first, int count, const std::complex<float>* spectra,
                                            std::size_t stride)>;
    void transform_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                          const SpectrumSink& sink) const;
    // The same for power spectra |X|^2 (RealFft::forward_power: about twice as fast as |forward()|^2):
    // sink(first, count, power, stride) with power[j * stride + k] = |X[k]|^2 of frame first + j.
    using PowerSink = std::function<void(std::int64_t first, int count, const float* power, std::size_t stride)>;
    void power_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                      const PowerSink& sink) const;

    // Inverse STFT (ref: librosa.istft): frames are inverse-FFT'd, windowed, overlap-added and divided by
    // the window's sum of squares where it is nonzero. `stft` is [bins, frames] with bins = 1 + n_fft/2.
    // length >= 0 gives exactly that many samples (zero-padded or truncated, as librosa's `length`);
    // length < 0 gives the natural length (n_fft + hop*(frames-1), minus the centre padding).
    void inverse(const ComplexMatrix& stft, std::int64_t length, std::vector<float>& out) const;

private:
    // Windows each frame into an aligned buffer and hands it to transform(frame, j) (j within the batch);
    // after each batch calls flush(done, count). Shared by transform_frames and power_frames.
    template <class Transform, class Flush>
    void windowed_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                         Transform&& transform, Flush&& flush) const;

    StftOptions m_options;
    std::vector<float> m_window;  // n_fft samples
    std::shared_ptr<const RealFft> m_fft;
};

}  // namespace mtag::dsp
