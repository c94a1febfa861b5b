#include "dsp/phase_vocoder.hpp"

#include "dsp/error.hpp"
#include "dsp/fft.hpp"
#include "dsp/float8.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <string>

namespace mtag::dsp {

namespace {

constexpr double two_pi = 2.0 * std::numbers::pi;

bool is_5_smooth(int n) {
    for (int p : {2, 3, 5})
        while (n % p == 0) n /= p;
    return n == 1;
}

void check_rate(double rate) {
    if (!(rate >= min_stretch_rate && rate <= max_stretch_rate))
        throw Error("time stretch rate " + std::to_string(rate), "must lie in [0.25, 4]");
}

// Phases are carried as unit phasors, never as angles. librosa's update
//   phase_acc += phi_advance + princarg(angle(X1) - angle(X0) - phi_advance)
// equals phase_acc + angle(X1) - angle(X0) modulo 2 pi (the advance cancels because analysis and synthesis
// hops are equal), so as phasors it is acc *= u1 * conj(u0) with u = X / |X|: no atan2, no sin/cos, and
// the loops vectorise. Real and imaginary parts live in separate arrays for the same reason.

// One analysis frame: magnitude and unit phasor per bin (phasor 1 where the magnitude is 0, as angle(0) = 0).
struct Frame {
    std::vector<float> magnitude, re, im;
    long index = -1;  // which analysis frame this holds

    void resize(std::size_t bins) {
        magnitude.resize(bins);
        re.resize(bins);
        im.resize(bins);
    }
    void set_zero() {
        std::fill(magnitude.begin(), magnitude.end(), 0.0f);
        std::fill(re.begin(), re.end(), 1.0f);
        std::fill(im.begin(), im.end(), 0.0f);
    }
    void set(const std::complex<float>* spectrum) {
        const float* x = reinterpret_cast<const float*>(spectrum);  // interleaved re, im
        const std::size_t bins = magnitude.size();
        float* mag = magnitude.data();
        float* ur = re.data();
        float* ui = im.data();
        for (std::size_t k = 0; k < bins; ++k) {
            const float a = x[2 * k], b = x[2 * k + 1];
            const float m = std::sqrt(a * a + b * b);
            const bool nonzero = m > 0.0f;
            const float inverse = nonzero ? 1.0f / m : 0.0f;
            mag[k] = m;
            ur[k] = nonzero ? a * inverse : 1.0f;
            ui[k] = b * inverse;
        }
    }
};

// The vocoder's running state and one output step; shared by the fused stretcher and the matrix API.
class VocoderCore {
  public:
    void reset(std::size_t bins, PhaseLocking locking) {
        m_locking = locking;
        m_re.assign(bins, 1.0f);
        m_im.assign(bins, 0.0f);
        m_magnitude.resize(bins);
        m_rot_re.resize(bins + 16);  // + 16: locked_step's region stores may run 16 floats past the last bin
        m_rot_im.resize(bins + 16);
        m_cand_re.resize(bins);
        m_cand_im.resize(bins);
        m_peaks.resize(bins);
        const std::size_t words = (bins + 63) / 64;
        m_peak_flags.assign(words * 64, 0);
        m_fall_flags.assign(words * 64, 0);
        m_peak_bits.resize(words);
        m_fall_bits.resize(words);
        m_started = false;
    }

    // Writes the output frame for a position `alpha` of the way from f0 to f1, then advances the phases.
    void step(const Frame& f0, const Frame& f1, double alpha, std::complex<float>* out) {
        const std::size_t bins = m_magnitude.size();
        if (!m_started) {
            std::copy(f0.re.begin(), f0.re.end(), m_re.begin());  // librosa: phase_acc = angle(D[:, 0])
            std::copy(f0.im.begin(), f0.im.end(), m_im.begin());
            m_started = true;
        }
        const auto a = static_cast<float>(alpha);
        float* mag = m_magnitude.data();
        for (std::size_t k = 0; k < bins; ++k) mag[k] = (1.0f - a) * f0.magnitude[k] + a * f1.magnitude[k];
        if (m_locking == PhaseLocking::identity && find_peaks()) {
            locked_step(f0, f1, reinterpret_cast<float*>(out));
            return;
        }
        float* o = reinterpret_cast<float*>(out);
        float* acc_re = m_re.data();
        float* acc_im = m_im.data();
        const float *u0r = f0.re.data(), *u0i = f0.im.data(), *u1r = f1.re.data(), *u1i = f1.im.data();
        for (std::size_t k = 0; k < bins; ++k) {
            const float pr = acc_re[k], pi = acc_im[k];
            o[2 * k] = mag[k] * pr;
            o[2 * k + 1] = mag[k] * pi;
            // d = u1 * conj(u0): the phase difference between the two analysis frames.
            const float dr = u1r[k] * u0r[k] + u1i[k] * u0i[k];
            const float di = u1i[k] * u0r[k] - u1r[k] * u0i[k];
            float nr = pr * dr - pi * di;
            float ni = pr * di + pi * dr;
            // One Newton step towards |acc| = 1, so rounding does not accumulate over thousands of frames.
            const float scale = 1.5f - 0.5f * (nr * nr + ni * ni);
            acc_re[k] = nr * scale;
            acc_im[k] = ni * scale;
        }
    }

  private:
    // Peak picking works on bit sets, 64 bins per word: the comparisons run as vector code into one byte per
    // bin, a multiply packs eight bytes into eight bits, and the peaks and region bounds are then found with
    // count-zero instructions instead of a compare per bin. (The scalar loops this replaces were most of the
    // vocoder's time: a data-dependent count, and a minimum search between every two peaks.)
    //
    // bit k of m_peak_bits: bin k is a local maximum of the magnitude (> its left, >= its right neighbour;
    //                       bin 0: >= bin 1 and nonzero; the last bin: > its left neighbour);
    // bit k of m_fall_bits: m[k] < m[k - 1].
    // Local maxima are found as before; false when there are none (silence).
    bool find_peaks() {
        const std::size_t bins = m_magnitude.size();
        const float* m = m_magnitude.data();
        std::uint8_t* peak = m_peak_flags.data();  // zero past `bins` (set in reset)
        std::uint8_t* fall = m_fall_flags.data();
        if (bins == 1) {
            peak[0] = m[0] > 0.0f;
            fall[0] = 0;
        } else {
            peak[0] = (m[0] >= m[1]) & (m[0] > 0.0f);
            fall[0] = 0;
            mark_interior(bins, m, peak, fall);
            peak[bins - 1] = m[bins - 1] > m[bins - 2];
            fall[bins - 1] = m[bins - 1] < m[bins - 2];
        }
        pack_bits(m_peak_flags, m_peak_bits);
        pack_bits(m_fall_flags, m_fall_bits);
        std::size_t* peaks = m_peaks.data();
        std::size_t count = 0;
        for (std::size_t w = 0; w < m_peak_bits.size(); ++w)
            for (std::uint64_t bits = m_peak_bits[w]; bits != 0; bits &= bits - 1)
                peaks[count++] = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
        m_peak_count = count;
        return count > 0;
    }

    // peak[k] = m[k] > m[k-1] and m[k] >= m[k+1] (> m[k-1] >= 0: nonzero), fall[k] = m[k] < m[k-1], for the
    // interior bins. __restrict lets the compiler vectorise it.
    static void mark_interior(std::size_t bins, const float* __restrict m, std::uint8_t* __restrict peak,
                              std::uint8_t* __restrict fall) {
        for (std::size_t k = 1; k + 1 < bins; ++k) {
            peak[k] = static_cast<std::uint8_t>((m[k] > m[k - 1]) & (m[k] >= m[k + 1]));
            fall[k] = static_cast<std::uint8_t>(m[k] < m[k - 1]);
        }
    }

    // Eight 0/1 bytes become eight bits: byte i (bit 8i of the little-endian word) lands on bit 56 + i of the
    // product with 0x0102040810204080, and no two partial products carry into each other.
    static void pack_bits(const std::vector<std::uint8_t>& flags, std::vector<std::uint64_t>& words) {
        const std::uint8_t* f = flags.data();
        for (std::size_t w = 0; w < words.size(); ++w) {
            std::uint64_t bits = 0;
            for (std::size_t b = 0; b < 8; ++b) {
                std::uint64_t eight;
                std::memcpy(&eight, f + w * 64 + b * 8, 8);
                if constexpr (std::endian::native == std::endian::big) eight = __builtin_bswap64(eight);
                bits |= ((eight * 0x0102040810204080ULL) >> 56) << (8 * b);
            }
            words[w] = bits;
        }
    }

    // The lowest bin between peaks p < q (the first of equal ones): with no other peak between them the
    // magnitude falls (weakly) from p, then rises strictly to q, so the minimum is where the last strict fall
    // in (p, q) lands, or p + 1 when nothing falls strictly (a flat stretch at p's level).
    std::size_t trough(std::size_t p, std::size_t q) const {
        const std::size_t low = p + 1, high = q - 1;  // q >= p + 2: two neighbouring bins cannot both peak
        std::size_t w = high / 64;
        const std::size_t low_word = low / 64;
        std::uint64_t bits = m_fall_bits[w] & (~std::uint64_t{0} >> (63 - high % 64));
        while (true) {
            if (w == low_word) bits &= ~std::uint64_t{0} << (low % 64);
            if (bits != 0) return w * 64 + 63 - static_cast<std::size_t>(std::countl_zero(bits));
            if (w == low_word) return low;
            bits = m_fall_bits[--w];
        }
    }

    // Identity phase locking: the peak's phase advances as in the plain vocoder; every bin of its region
    // (bounded by the magnitude minimum between neighbouring peaks) keeps its analysed phase offset from
    // the peak: phi_out[k] = phi_out[p] + (phi_in[k] - phi_in[p]), i.e. out[k] = |X[k]| u0[k] * rotation
    // with rotation = acc[p] * conj(u0[p]). The next accumulated phase of bin k is then rotation * u1[k].
    void locked_step(const Frame& f0, const Frame& f1, float* o) {
        const std::size_t bins = m_magnitude.size();
        float* rot_re = m_rot_re.data();
        float* rot_im = m_rot_im.data();
        // Every bin's would-be rotation, in one vector pass (cheaper than a scalar square root per peak);
        // then each region takes its peak's. Regions are a few bins wide, so a region's rotation is stored
        // as two unconditional 8-float vectors (and more only when it is wider): what spills past its end is
        // overwritten by the next region, or lands in the padding after the last bin.
        const float* cand_re = m_cand_re.data();
        const float* cand_im = m_cand_im.data();
        unit_rotations(bins, m_re.data(), m_im.data(), f0.re.data(), f0.im.data(), m_cand_re.data(),
                       m_cand_im.data());
        const std::size_t* peaks = m_peaks.data();
        std::size_t begin = 0;
        for (std::size_t i = 0; i < m_peak_count; ++i) {
            const std::size_t p = peaks[i];
            // The region ends after the lowest bin between this peak and the next.
            const std::size_t end = i + 1 < m_peak_count ? trough(p, peaks[i + 1]) + 1 : bins;
            const Float8 rr = Float8{} + cand_re[p], ri = Float8{} + cand_im[p];
            std::size_t k = begin;
            do {
                store8(rot_re + k, rr);
                store8(rot_im + k, ri);
                store8(rot_re + k + 8, rr);
                store8(rot_im + k + 8, ri);
                k += 16;
            } while (k < end);
            begin = end;
        }
        rotate_regions(bins, m_magnitude.data(), rot_re, rot_im, f0.re.data(), f0.im.data(), f1.re.data(),
                       f1.im.data(), o, m_re.data(), m_im.data());
    }

    // rot[k] = acc[k] conj(u0[k]) / |acc[k] conj(u0[k])|: an exact unit rotation, so phases do not drift.
    static void unit_rotations(std::size_t bins, const float* __restrict acc_re, const float* __restrict acc_im,
                               const float* __restrict u0r, const float* __restrict u0i, float* __restrict rot_re,
                               float* __restrict rot_im) {
        for (std::size_t k = 0; k < bins; ++k) {
            const float rr = acc_re[k] * u0r[k] + acc_im[k] * u0i[k];
            const float ri = acc_im[k] * u0r[k] - acc_re[k] * u0i[k];
            const float norm = 1.0f / std::sqrt(rr * rr + ri * ri);
            rot_re[k] = rr * norm;
            rot_im[k] = ri * norm;
        }
    }

    // out[k] = |X[k]| u0[k] rot[k], acc[k] = u1[k] rot[k]. A function of its own so that __restrict tells the
    // compiler the arrays do not overlap: it then vectorises the loop (inline, it stayed scalar).
    static void rotate_regions(std::size_t bins, const float* __restrict mag, const float* __restrict rot_re,
                               const float* __restrict rot_im, const float* __restrict u0r,
                               const float* __restrict u0i, const float* __restrict u1r, const float* __restrict u1i,
                               float* __restrict o, float* __restrict acc_re, float* __restrict acc_im) {
        for (std::size_t k = 0; k < bins; ++k) {
            const float rr = rot_re[k], ri = rot_im[k];
            o[2 * k] = mag[k] * (u0r[k] * rr - u0i[k] * ri);
            o[2 * k + 1] = mag[k] * (u0r[k] * ri + u0i[k] * rr);
            acc_re[k] = u1r[k] * rr - u1i[k] * ri;
            acc_im[k] = u1r[k] * ri + u1i[k] * rr;
        }
    }

    PhaseLocking m_locking = PhaseLocking::identity;
    std::vector<float> m_re, m_im;          // phasor of the next output frame per bin (unit length)
    std::vector<float> m_rot_re, m_rot_im;    // per bin: the rotation of its peak's region
    std::vector<float> m_cand_re, m_cand_im;  // per bin: the rotation it would give as a peak
    std::vector<float> m_magnitude;
    std::vector<std::size_t> m_peaks;  // the first m_peak_count entries: this frame's peaks, ascending
    std::size_t m_peak_count = 0;
    std::vector<std::uint8_t> m_peak_flags, m_fall_flags;  // one byte per bin, zero past the last bin
    std::vector<std::uint64_t> m_peak_bits, m_fall_bits;   // the same, one bit per bin
    bool m_started = false;
};

// Number of output frames: len(np.arange(0, frames, rate)).
std::size_t output_steps(std::size_t frames, double rate) {
    std::size_t steps = static_cast<std::size_t>(std::ceil(static_cast<double>(frames) / rate));
    while (steps > 0 && static_cast<double>(steps - 1) * rate >= static_cast<double>(frames)) --steps;
    while (static_cast<double>(steps) * rate < static_cast<double>(frames)) ++steps;
    return steps;
}

}  // namespace

int default_stretch_n_fft(int sample_rate) {
    if (sample_rate <= 0) throw Error("time stretch", "sample rate must be positive");
    const double target = 2048.0 * sample_rate / 22050.0;
    int best = 16;
    double best_distance = 1e300;
    const int limit = static_cast<int>(target * 1.25) + 16;
    for (int n = 16; n <= limit; n += 4) {
        if (!is_5_smooth(n)) continue;
        const double distance = std::abs(n - target);
        if (distance < best_distance) {
            best = n;
            best_distance = distance;
        }
    }
    return best;
}

struct TimeStretcher::Impl {
    std::shared_ptr<const RealFft> fft;
    PhaseLocking locking = PhaseLocking::identity;
    std::vector<float> window;  // periodic Hann
    std::vector<float> padded;  // n_fft/2 zeros + x + n_fft/2 zeros
    FftBuffer<float> time;      // one frame in the time domain (FFTW-aligned: SIMD plans)
    FftBuffer<std::complex<float>> spectrum;
    std::size_t bins = 0;
    Frame frames[2];
    VocoderCore core;
    std::vector<float> ola;  // overlap-added output (with the leading n_fft/2 padding)
    std::vector<float> wss;  // window sum-square at each output sample

    // Makes frames[slot] hold analysis frame j (zeros past the last frame, as librosa pads D).
    void analyse(Frame& frame, long j, long n_frames, int n_fft, int hop) {
        if (frame.index == j) return;
        frame.index = j;
        if (j >= n_frames) {
            frame.set_zero();
            return;
        }
        const float* src = padded.data() + static_cast<std::size_t>(j) * hop;
        for (int i = 0; i < n_fft; ++i) time[i] = src[i] * window[i];
        fft->forward(time.get(), spectrum.get());
        frame.set(spectrum.get());
    }
};

TimeStretcher::TimeStretcher(const TimeStretchOptions& options) : m_impl(std::make_unique<Impl>()) {
    m_n_fft = options.n_fft == 0 ? default_stretch_n_fft(options.sample_rate) : options.n_fft;
    if (m_n_fft < 16 || m_n_fft % 2 != 0)
        throw Error("time stretch n_fft", "must be even and at least 16, got " + std::to_string(m_n_fft));
    m_hop = options.hop_length == 0 ? m_n_fft / 4 : options.hop_length;
    if (m_hop < 1 || m_hop > m_n_fft / 2)
        throw Error("time stretch hop_length", "must lie in [1, n_fft / 2] so frames overlap, got " +
                                                   std::to_string(m_hop) + " for n_fft " +
                                                   std::to_string(m_n_fft));
    Impl& s = *m_impl;
    s.fft = real_fft(m_n_fft);
    s.locking = options.phase_locking;
    s.window.resize(m_n_fft);
    for (int i = 0; i < m_n_fft; ++i)
        s.window[i] = static_cast<float>(0.5 - 0.5 * std::cos(two_pi * i / m_n_fft));
    const std::size_t bins = static_cast<std::size_t>(m_n_fft / 2 + 1);
    s.time = fft_alloc_real(static_cast<std::size_t>(m_n_fft));
    s.spectrum = fft_alloc_complex(bins);
    s.bins = bins;
    for (Frame& frame : s.frames) frame.resize(bins);
}

TimeStretcher::~TimeStretcher() = default;
TimeStretcher::TimeStretcher(TimeStretcher&&) noexcept = default;
TimeStretcher& TimeStretcher::operator=(TimeStretcher&&) noexcept = default;

void TimeStretcher::process(std::span<const float> x, double rate, std::vector<float>& out) {
    check_rate(rate);
    Impl& s = *m_impl;
    const int n_fft = m_n_fft, hop = m_hop, pad = n_fft / 2;
    const std::size_t n = x.size();
    const auto length = static_cast<std::size_t>(std::llround(static_cast<double>(n) / rate));
    out.assign(length, 0.0f);
    if (n == 0) return;

    // Centred frames with zero padding (librosa.stft center=True, pad_mode="constant").
    s.padded.assign(n + 2 * static_cast<std::size_t>(pad), 0.0f);
    std::copy(x.begin(), x.end(), s.padded.begin() + pad);
    const long n_frames = 1 + static_cast<long>(n / hop);
    const std::size_t steps = output_steps(static_cast<std::size_t>(n_frames), rate);
    const std::size_t bins = s.bins;
    s.core.reset(bins, s.locking);
    for (Frame& frame : s.frames) frame.index = -1;

    // Only output samples [pad, pad + length) are kept: frames that start past them are not made.
    const std::size_t needed = pad + length;
    s.ola.assign(needed + n_fft, 0.0f);
    s.wss.assign(needed + n_fft, 0.0f);
    const float scale = 1.0f / static_cast<float>(n_fft);  // FFTW's inverse is unnormalised
    for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t start = t * hop;
        if (start >= needed) break;
        const double position = static_cast<double>(t) * rate;
        const long j = static_cast<long>(position);
        // Keep frame j and j + 1 in the two slots, reusing whichever already holds one of them.
        Frame* f0 = &s.frames[0];
        Frame* f1 = &s.frames[1];
        if (f1->index == j || f0->index == j + 1) std::swap(f0, f1);
        s.analyse(*f0, j, n_frames, n_fft, hop);
        s.analyse(*f1, j + 1, n_frames, n_fft, hop);
        s.core.step(*f0, *f1, position - static_cast<double>(j), s.spectrum.get());
        s.fft->inverse(s.spectrum.get(), s.time.get());
        float* dst = s.ola.data() + start;
        float* norm = s.wss.data() + start;
        for (int i = 0; i < n_fft; ++i) {
            dst[i] += s.time[i] * s.window[i] * scale;
            norm[i] += s.window[i] * s.window[i];
        }
    }
    // librosa.istft: divide by the window sum-square where it is not tiny, drop the centring pad.
    constexpr float tiny = 1.1754944e-38f;
    for (std::size_t i = 0; i < length; ++i) {
        const float w = s.wss[pad + i];
        out[i] = w > tiny ? s.ola[pad + i] / w : s.ola[pad + i];
    }
}

std::vector<float> time_stretch(std::span<const float> x, double rate, const TimeStretchOptions& options) {
    TimeStretcher stretcher(options);
    std::vector<float> out;
    stretcher.process(x, rate, out);
    return out;
}

ComplexMatrix phase_vocoder(const ComplexMatrix& stft, double rate, int hop_length, PhaseLocking locking) {
    if (!(rate > 0.0) || !std::isfinite(rate))
        throw Error("phase vocoder rate " + std::to_string(rate), "must be positive");
    if (stft.rows < 2) throw Error("phase vocoder", "the spectrogram needs at least 2 frequency bins");
    if (hop_length < 1) throw Error("phase vocoder", "hop_length must be positive");
    const std::size_t bins = stft.rows, frames = stft.cols;
    const std::size_t steps = output_steps(frames, rate);
    ComplexMatrix out(bins, steps);
    VocoderCore core;
    core.reset(bins, locking);
    Frame slots[2];
    for (Frame& frame : slots) frame.resize(bins);
    std::vector<std::complex<float>> column(bins), result(bins);
    auto load = [&](Frame& frame, long j) {
        if (frame.index == j) return;
        frame.index = j;
        if (j >= static_cast<long>(frames)) {
            frame.set_zero();
            return;
        }
        for (std::size_t k = 0; k < bins; ++k) column[k] = stft(k, static_cast<std::size_t>(j));
        frame.set(column.data());
    };
    for (std::size_t t = 0; t < steps; ++t) {
        const double position = static_cast<double>(t) * rate;
        const long j = static_cast<long>(position);
        Frame* f0 = &slots[0];
        Frame* f1 = &slots[1];
        if (f1->index == j || f0->index == j + 1) std::swap(f0, f1);
        load(*f0, j);
        load(*f1, j + 1);
        core.step(*f0, *f1, position - static_cast<double>(j), result.data());
        for (std::size_t k = 0; k < bins; ++k) out(k, t) = result[k];
    }
    return out;
}

}  // namespace mtag::dsp
