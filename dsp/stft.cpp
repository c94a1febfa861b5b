#include "dsp/stft.hpp"

#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mtag::dsp {

namespace {

// Rounds a row length up so every row of a scratch buffer keeps FFTW's SIMD alignment (32 bytes).
std::size_t aligned_stride(std::size_t n, std::size_t element_bytes) {
    const std::size_t per_line = 32 / element_bytes;
    return (n + per_line - 1) / per_line * per_line;
}

// numpy.pad(mode='reflect') index mapping: mirror about the end samples without repeating them,
// periodically, so it also works when the padding is longer than the signal.
std::int64_t reflect_index(std::int64_t i, std::int64_t length) {
    if (length == 1) return 0;
    const std::int64_t period = 2 * (length - 1);
    i %= period;
    if (i < 0) i += period;
    return i >= length ? period - i : i;
}

std::string frames_text(std::int64_t first, std::int64_t count) {
    return "frames [" + std::to_string(first) + ", " + std::to_string(first + count) + ")";
}

}  // namespace

PadMode parse_pad_mode(std::string_view name) {
    if (name == "constant" || name == "zeros") return PadMode::constant;
    if (name == "reflect") return PadMode::reflect;
    throw Error("pad_mode '" + std::string(name) + "'", "unknown; expected constant or reflect");
}

std::string pad_mode_name(PadMode mode) { return mode == PadMode::reflect ? "reflect" : "constant"; }

Stft::Stft(const StftOptions& options) : m_options(options) {
    StftOptions& o = m_options;
    if (o.n_fft < 2) throw Error("STFT n_fft", "must be at least 2, got " + std::to_string(o.n_fft));
    if (o.win_length == 0) o.win_length = o.n_fft;
    if (o.win_length < 1 || o.win_length > o.n_fft)
        throw Error("STFT win_length", "must be in [1, n_fft=" + std::to_string(o.n_fft) + "], got " +
                                           std::to_string(o.win_length));
    if (o.hop_length == 0) o.hop_length = o.win_length / 4;
    if (o.hop_length < 1)
        throw Error("STFT hop_length", "must be positive, got " + std::to_string(o.hop_length) +
                                           " (win_length/4 is 0 for windows shorter than 4 samples)");
    // ref: librosa.util.pad_center: the window sits in the middle of the n_fft frame.
    m_window.assign(static_cast<std::size_t>(o.n_fft), 0.0f);
    const std::vector<float> w = make_window(o.window, o.win_length, true);
    const std::size_t left = static_cast<std::size_t>((o.n_fft - o.win_length) / 2);
    std::copy(w.begin(), w.end(), m_window.begin() + static_cast<std::ptrdiff_t>(left));
    m_fft = real_fft(o.n_fft);
}

Stft::~Stft() = default;

std::int64_t Stft::frame_count(std::int64_t length) const {
    const std::int64_t pad = m_options.center ? m_options.n_fft / 2 : 0;
    const std::int64_t padded = length + 2 * pad;
    if (padded < m_options.n_fft) return 0;
    return 1 + (padded - m_options.n_fft) / m_options.hop_length;
}

SampleRange Stft::samples_for_frames(std::int64_t first_frame, std::int64_t n_frames, std::int64_t length) const {
    if (n_frames <= 0 || length <= 0) return {0, 0};
    const std::int64_t pad = m_options.center ? m_options.n_fft / 2 : 0;
    const std::int64_t start = first_frame * m_options.hop_length - pad;
    const std::int64_t stop = (first_frame + n_frames - 1) * m_options.hop_length - pad + m_options.n_fft;
    SampleRange r{std::clamp<std::int64_t>(start, 0, length), std::clamp<std::int64_t>(stop, 0, length)};
    if (m_options.center && m_options.pad_mode == PadMode::reflect) {
        // Left padding mirrors samples 1..-start, right padding samples 2*len-1-stop..len-2.
        if (start < 0) {
            if (-start > length - 1) return {0, length};
            r.end = std::max(r.end, -start + 1);
        }
        if (stop > length) {
            const std::int64_t lowest = 2 * length - 1 - stop;
            if (lowest < 0) return {0, length};
            r.begin = std::min(r.begin, lowest);
        }
    }
    if (r.end < r.begin) r.end = r.begin;
    return r;
}

int Stft::batch_frames() const {
    // Frames and spectra of one batch stay in L2 cache; at least 16 frames so sinks can vectorise along frames.
    return std::max(16, 32768 / m_options.n_fft);
}

template <class Transform, class Flush>
void Stft::windowed_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                           Transform&& transform, Flush&& flush) const {
    const StftOptions& o = m_options;
    const std::int64_t length = block.length;
    const std::int64_t total = frame_count(length);
    if (first_frame < 0 || n_frames < 0 || first_frame + n_frames > total)
        throw Error("STFT " + frames_text(first_frame, n_frames),
                    "out of range for a signal of " + std::to_string(length) + " samples (" +
                        std::to_string(total) + " frames)");
    if (n_frames == 0) return;
    if (o.center && o.pad_mode == PadMode::reflect && length == 0)
        throw Error("STFT", "cannot reflect-pad an empty signal");
    const SampleRange need = samples_for_frames(first_frame, n_frames, length);
    const std::int64_t have_end = block.offset + static_cast<std::int64_t>(block.samples.size());
    if (need.begin < need.end && (need.begin < block.offset || need.end > have_end))
        throw Error("STFT " + frames_text(first_frame, n_frames),
                    "need samples [" + std::to_string(need.begin) + ", " + std::to_string(need.end) +
                        ") but the block holds [" + std::to_string(block.offset) + ", " +
                        std::to_string(have_end) + ")");

    const int n_fft = o.n_fft;
    const std::int64_t pad = o.center ? n_fft / 2 : 0;
    const bool reflect = o.pad_mode == PadMode::reflect;
    // Frames are transformed in batches whose spectra stay in L2 cache; the sink then reads
    // `batch` spectra at once (e.g. to transpose them into [bins, frames] with row-contiguous writes).
    const int batch = static_cast<int>(std::min<std::int64_t>(n_frames, batch_frames()));
    // One windowed frame at a time, transformed at once: the frame stays in L1 cache between the window
    // product and the FFT (a batch of windowed frames would not, and its stores would miss).
    FftBuffer<float> frame = fft_alloc_real(static_cast<std::size_t>(n_fft));
    const float* window = m_window.data();
    const float* samples = block.samples.data();

    for (std::int64_t done = 0; done < n_frames; done += batch) {
        const int count = static_cast<int>(std::min<std::int64_t>(batch, n_frames - done));
        for (int j = 0; j < count; ++j) {
            float* __restrict dst = frame.get();
            const std::int64_t start = (first_frame + done + j) * o.hop_length - pad;
            if (start >= 0 && start + n_fft <= length) {
                const float* __restrict src = samples + (start - block.offset);
                for (int k = 0; k < n_fft; ++k) dst[k] = src[k] * window[k];
            } else {
                for (int k = 0; k < n_fft; ++k) {
                    std::int64_t i = start + k;
                    float v = 0.0f;
                    if (i >= 0 && i < length) {
                        v = samples[i - block.offset];
                    } else if (reflect) {
                        v = samples[reflect_index(i, length) - block.offset];
                    }
                    dst[k] = v * window[k];
                }
            }
            transform(static_cast<const float*>(dst), j);
        }
        flush(done, count);
    }
}

void Stft::transform_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                            const SpectrumSink& sink) const {
    const std::size_t spec_stride = aligned_stride(static_cast<std::size_t>(bins()), sizeof(std::complex<float>));
    const std::size_t batch = static_cast<std::size_t>(std::min<std::int64_t>(std::max<std::int64_t>(n_frames, 1), batch_frames()));
    FftBuffer<std::complex<float>> spectra = fft_alloc_complex(spec_stride * batch);
    windowed_frames(
        block, first_frame, n_frames,
        [&](const float* frame, int j) {
            m_fft->forward(frame, spectra.get() + spec_stride * static_cast<std::size_t>(j));
        },
        [&](std::int64_t done, int count) { sink(done, count, spectra.get(), spec_stride); });
}

void Stft::power_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                        const PowerSink& sink) const {
    const std::size_t stride = aligned_stride(static_cast<std::size_t>(bins()), sizeof(float));
    const std::size_t batch = static_cast<std::size_t>(std::min<std::int64_t>(std::max<std::int64_t>(n_frames, 1), batch_frames()));
    FftBuffer<float> power = fft_alloc_real(stride * batch);
    FftBuffer<std::complex<float>> scratch = fft_alloc_complex(m_fft->scratch_size());
    windowed_frames(
        block, first_frame, n_frames,
        [&](const float* frame, int j) {
            m_fft->forward_power(frame, power.get() + stride * static_cast<std::size_t>(j), scratch.get());
        },
        [&](std::int64_t done, int count) { sink(done, count, power.get(), stride); });
}

void Stft::compute_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                          ComplexMatrix& out) const {
    const std::size_t n_bins = static_cast<std::size_t>(bins());
    out.resize(n_bins, static_cast<std::size_t>(std::max<std::int64_t>(n_frames, 0)));
    const std::size_t cols = out.cols;
    std::complex<float>* dst = out.data.data();
    transform_frames(block, first_frame, n_frames,
                     [&](std::int64_t first, int count, const std::complex<float>* spec, std::size_t stride) {
                         for (std::size_t k = 0; k < n_bins; ++k) {
                             std::complex<float>* row = dst + k * cols + first;
                             for (int j = 0; j < count; ++j) row[j] = spec[stride * j + k];
                         }
                     });
}

namespace {

std::int64_t checked_frames(const Stft& stft, std::size_t length) {
    const std::int64_t frames = stft.frame_count(static_cast<std::int64_t>(length));
    if (frames == 0)
        throw Error("STFT", "signal of " + std::to_string(length) + " samples is shorter than n_fft=" +
                                std::to_string(stft.n_fft()) + " with center=false; no frame fits");
    return frames;
}

}  // namespace

void Stft::compute(std::span<const float> x, ComplexMatrix& out) const {
    const std::int64_t len = static_cast<std::int64_t>(x.size());
    compute_frames({x, 0, len}, 0, checked_frames(*this, x.size()), out);
}

namespace {

// Runs the STFT over a frame range and stores op(X) as [bins, n_frames].
template <class Op>
void real_spectrogram(const Stft& stft, const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames,
                      FloatMatrix& out, Op op) {
    const std::size_t n_bins = static_cast<std::size_t>(stft.bins());
    out.resize(n_bins, static_cast<std::size_t>(std::max<std::int64_t>(n_frames, 0)));
    float* dst = out.data.data();
    const std::size_t cols = out.cols;
    stft.transform_frames(block, first_frame, n_frames,
                          [&](std::int64_t first, int count, const std::complex<float>* spec, std::size_t stride) {
                              for (std::size_t k = 0; k < n_bins; ++k) {
                                  float* row = dst + k * cols + first;
                                  for (int j = 0; j < count; ++j) row[j] = op(spec[stride * j + k]);
                              }
                          });
}

}  // namespace

void Stft::spectrogram_frames(const SignalBlock& block, std::int64_t first_frame, std::int64_t n_frames, float power,
                              FloatMatrix& out) const {
    if (!(power > 0.0f)) throw Error("STFT spectrogram power", "must be positive (1 magnitude, 2 power), got " + std::to_string(power));
    if (power == 2.0f)
        real_spectrogram(*this, block, first_frame, n_frames, out, [](std::complex<float> v) { return std::norm(v); });
    else if (power == 1.0f)
        real_spectrogram(*this, block, first_frame, n_frames, out, [](std::complex<float> v) { return std::abs(v); });
    else
        real_spectrogram(*this, block, first_frame, n_frames, out,
                         [power](std::complex<float> v) { return std::pow(std::abs(v), power); });
}

void Stft::magnitude(std::span<const float> x, FloatMatrix& out) const {
    const std::int64_t len = static_cast<std::int64_t>(x.size());
    spectrogram_frames({x, 0, len}, 0, checked_frames(*this, x.size()), 1.0f, out);
}

void Stft::power(std::span<const float> x, FloatMatrix& out) const {
    const std::int64_t len = static_cast<std::int64_t>(x.size());
    spectrogram_frames({x, 0, len}, 0, checked_frames(*this, x.size()), 2.0f, out);
}

void Stft::inverse(const ComplexMatrix& stft, std::int64_t length, std::vector<float>& out) const {
    const StftOptions& o = m_options;
    const int n_fft = o.n_fft;
    const std::size_t n_bins = static_cast<std::size_t>(bins());
    if (stft.rows != n_bins)
        throw Error("inverse STFT", "got " + std::to_string(stft.rows) + " bins, expected " +
                                        std::to_string(n_bins) + " (1 + n_fft/2 for n_fft=" +
                                        std::to_string(n_fft) + ")");
    const std::int64_t pad = o.center ? n_fft / 2 : 0;
    std::int64_t n_frames = static_cast<std::int64_t>(stft.cols);
    if (length >= 0) {
        // ref: librosa.istft: only the frames that reach into the requested length are synthesised.
        const std::int64_t padded = length + 2 * pad;
        n_frames = std::min(n_frames, (padded + o.hop_length - 1) / o.hop_length);
    }
    const std::int64_t full = n_frames > 0 ? n_fft + o.hop_length * (n_frames - 1) : 0;
    std::vector<float> y(static_cast<std::size_t>(full), 0.0f);
    std::vector<float> wss(static_cast<std::size_t>(full), 0.0f);
    FftBuffer<std::complex<float>> spectrum = fft_alloc_complex(n_bins);
    FftBuffer<float> frame = fft_alloc_real(static_cast<std::size_t>(n_fft));
    const float scale = 1.0f / static_cast<float>(n_fft);  // irfft's normalisation
    for (std::int64_t t = 0; t < n_frames; ++t) {
        for (std::size_t k = 0; k < n_bins; ++k) spectrum[k] = stft(k, static_cast<std::size_t>(t));
        m_fft->inverse(spectrum.get(), frame.get());
        float* dst = y.data() + t * o.hop_length;
        float* sq = wss.data() + t * o.hop_length;
        for (int k = 0; k < n_fft; ++k) {
            const float w = m_window[static_cast<std::size_t>(k)];
            dst[k] += frame[k] * scale * w;
            sq[k] += w * w;
        }
    }
    // ref: librosa.filters.window_sumsquare; divide only where the sum is above float's smallest normal.
    const float tiny = std::numeric_limits<float>::min();
    for (std::size_t i = 0; i < y.size(); ++i)
        if (wss[i] > tiny) y[i] /= wss[i];

    std::int64_t begin = std::min(pad, full);
    std::int64_t end = length >= 0 ? begin + length : std::max(begin, full - pad);
    out.assign(static_cast<std::size_t>(end - begin), 0.0f);
    const std::int64_t available = std::min(end, full) - begin;
    if (available > 0) std::copy(y.begin() + begin, y.begin() + begin + available, out.begin());
}

}  // namespace mtag::dsp
