#include "dsp/fft.hpp"

#include "dsp/error.hpp"
#include "dsp/float8.hpp"

#include <fftw3.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <numbers>

namespace mtag::dsp {

namespace {

// FFTW's planner is not thread-safe; execution of an existing plan is.
std::mutex& planner_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::atomic<FftPlanning>& default_planning() {
    static std::atomic<FftPlanning> planning{FftPlanning::estimate};
    return planning;
}

bool is_aligned(const void* p) { return fftwf_alignment_of(static_cast<float*>(const_cast<void*>(p))) == 0; }

}  // namespace

void set_fft_planning(FftPlanning planning) { default_planning().store(planning); }

FftPlanning fft_planning() { return default_planning().load(); }

RealFft::RealFft(int n, FftPlanning planning) : m_n(n), m_planning(planning) {
    if (n < 1) throw Error("FFT size", "must be positive, got " + std::to_string(n));
    if (n % 2 == 0 && n >= 16) {
        const int half = n / 2;
        m_twiddle_re.resize(static_cast<std::size_t>(half));
        m_twiddle_im.resize(static_cast<std::size_t>(half));
        for (int k = 0; k < half; ++k) {
            const double angle = 2.0 * std::numbers::pi * k / n;
            m_twiddle_re[static_cast<std::size_t>(k)] = static_cast<float>(0.5 * std::cos(angle));
            m_twiddle_im[static_cast<std::size_t>(k)] = static_cast<float>(-0.5 * std::sin(angle));
        }
    }
}

RealFft::~RealFft() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (LazyPlan* slot : {&m_forward, &m_inverse, &m_forward_unaligned, &m_inverse_unaligned, &m_half,
                           &m_half_inverse})
        if (slot->plan) fftwf_destroy_plan(static_cast<fftwf_plan>(slot->plan));
}

void* RealFft::plan(LazyPlan& slot, bool forward, bool aligned) const {
    std::call_once(slot.once, [&] {
        std::lock_guard<std::mutex> lock(planner_mutex());
        // Plans are made on scratch arrays (MEASURE overwrites them); new-array execution then runs them
        // on the caller's buffers. Aligned plans may use SIMD; UNALIGNED ones accept any pointer.
        float* real = fftwf_alloc_real(static_cast<std::size_t>(m_n));
        fftwf_complex* spectrum = fftwf_alloc_complex(static_cast<std::size_t>(m_n / 2 + 1));
        unsigned flags = FFTW_ESTIMATE;
        if (!aligned) flags |= FFTW_UNALIGNED;
        else if (m_planning == FftPlanning::measure && m_n <= 16384) flags = FFTW_MEASURE;
        // c2r may overwrite its input by default; inverse() promises not to.
        fftwf_plan p = forward ? fftwf_plan_dft_r2c_1d(m_n, real, spectrum, flags)
                               : fftwf_plan_dft_c2r_1d(m_n, spectrum, real, flags | FFTW_PRESERVE_INPUT);
        fftwf_free(real);
        fftwf_free(spectrum);
        if (!p) throw Error("FFT size " + std::to_string(m_n), "FFTW could not plan it");
        slot.plan = p;
    });
    return slot.plan;
}

namespace {

// Lane shuffles of two 8-float vectors (lanes 0-7 of a, then 8-15 of b). __builtin_shufflevector takes
// the lanes as constants and exists in both GCC (12 and later) and clang, unlike GCC's __builtin_shuffle.
inline Float8 shuffle_even(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14); }
inline Float8 shuffle_odd(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15); }
inline Float8 shuffle_even_reversed(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 14, 12, 10, 8, 6, 4, 2, 0); }
inline Float8 shuffle_odd_reversed(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 15, 13, 11, 9, 7, 5, 3, 1); }
inline Float8 shuffle_interleave_lo(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11); }
inline Float8 shuffle_interleave_hi(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15); }
inline Float8 shuffle_reversed_lo(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 7, 15, 6, 14, 5, 13, 4, 12); }
inline Float8 shuffle_reversed_hi(Float8 a, Float8 b) { return __builtin_shufflevector(a, b, 3, 11, 2, 10, 1, 9, 0, 8); }


// The untangling pass of a real FFT computed as a complex one (ref: Numerical Recipes, 2nd ed., sec. 12.3,
// realft; Sorensen et al. 1987). With z[j] = x[2j] + i x[2j+1] and Z = DFT_m(z), m = n/2:
//   E[k] = (Z[k] + conj(Z[m-k])) / 2            (DFT of the even samples)
//   O[k] = (Z[k] - conj(Z[m-k])) / (2i)         (DFT of the odd samples)
//   X[k] = E[k] + exp(-2 pi i k / n) O[k],  X[0] = Re Z[0] + Im Z[0],  X[m] = Re Z[0] - Im Z[0].
// Writes |X[k]|^2 for k in [0, m]. tw_re / tw_im hold cos / -sin of 2 pi k / n, halved.
void untangle_power(const float* __restrict z, const float* __restrict tw_re, const float* __restrict tw_im, int m,
                    float* __restrict power) {
    const float dc = z[0] + z[1], nyquist = z[0] - z[1];
    power[0] = dc * dc;
    power[m] = nyquist * nyquist;
    int k = 1;
    // Eight bins a step: Z[k..k+7] forwards, Z[m-k-7..m-k] backwards, split into real and imaginary parts.
    const Float8 half = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    for (; k + 8 <= m; k += 8) {
        const Float8 f0 = load8(z + 2 * k), f1 = load8(z + 2 * k + 8);
        const Float8 ar = shuffle_even(f0, f1), ai = shuffle_odd(f0, f1);
        const float* r = z + 2 * (m - k - 7);
        const Float8 r0 = load8(r), r1 = load8(r + 8);
        const Float8 br = shuffle_even_reversed(r0, r1), bi = -shuffle_odd_reversed(r0, r1);
        const Float8 er = ar + br, ei = ai + bi, dr = ar - br, di = ai - bi;
        const Float8 c = load8(tw_re + k), s = load8(tw_im + k);
        const Float8 xr = half * er + c * di + s * dr;
        const Float8 xi = half * ei - c * dr + s * di;
        store8(power + k, xr * xr + xi * xi);
    }
    for (; k < m; ++k) {
        const float ar = z[2 * k], ai = z[2 * k + 1];
        const float br = z[2 * (m - k)], bi = -z[2 * (m - k) + 1];
        const float er = ar + br, ei = ai + bi, dr = ar - br, di = ai - bi;
        const float xr = 0.5f * er + tw_re[k] * di + tw_im[k] * dr;
        const float xi = 0.5f * ei - tw_re[k] * dr + tw_im[k] * di;
        power[k] = xr * xr + xi * xi;
    }
}

// The same untangling in place, writing the n/2 + 1 complex bins X over Z (z holds m + 1 complex slots):
// bins k and m - k are made from Z[k] and Z[m - k] together, X[m - k] = conj(E[k] - exp(-2 pi i k / n) O[k]).
void untangle_in_place(float* z, const float* __restrict tw_re, const float* __restrict tw_im, int m) {
    const float z0r = z[0], z0i = z[1];
    z[0] = z0r + z0i;
    z[1] = 0.0f;
    z[2 * m] = z0r - z0i;
    z[2 * m + 1] = 0.0f;
    int k = 1;
    const Float8 half = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    // Vector steps while the block [k, k+8) and its mirror [m-k-7, m-k] do not overlap.
    for (; 2 * k + 15 <= m; k += 8) {
        float* f = z + 2 * k;
        float* r = z + 2 * (m - k - 7);
        const Float8 f0 = load8(f), f1 = load8(f + 8), r0 = load8(r), r1 = load8(r + 8);
        const Float8 ar = shuffle_even(f0, f1), ai = shuffle_odd(f0, f1);
        const Float8 br = shuffle_even_reversed(r0, r1), bi = -shuffle_odd_reversed(r0, r1);
        const Float8 er = half * (ar + br), ei = half * (ai + bi), dr = ar - br, di = ai - bi;
        const Float8 c = load8(tw_re + k), s = load8(tw_im + k);
        const Float8 tr = c * di + s * dr, ti = s * di - c * dr;  // exp(-2 pi i k / n) O[k]
        const Float8 xr = er + tr, xi = ei + ti;                  // X[k]
        const Float8 yr = er - tr, yi = ti - ei;                  // X[m - k] = conj(E - tw O)
        store8(f, shuffle_interleave_lo(xr, xi));
        store8(f + 8, shuffle_interleave_hi(xr, xi));
        store8(r, shuffle_reversed_lo(yr, yi));
        store8(r + 8, shuffle_reversed_hi(yr, yi));
    }
    for (; 2 * k <= m; ++k) {
        const int j = m - k;
        const float ar = z[2 * k], ai = z[2 * k + 1], br = z[2 * j], bi = -z[2 * j + 1];
        const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi), dr = ar - br, di = ai - bi;
        const float tr = tw_re[k] * di + tw_im[k] * dr, ti = tw_im[k] * di - tw_re[k] * dr;
        z[2 * k] = er + tr;
        z[2 * k + 1] = ei + ti;
        z[2 * j] = er - tr;
        z[2 * j + 1] = ti - ei;
    }
}

// The inverse of the untangling: from the n/2 + 1 bins X of a real signal, the n/2 complex values
//   Z'[k] = (X[k] + conj(X[m-k])) + i exp(2 pi i k / n) (X[k] - conj(X[m-k]))   (= 2 (E[k] + i O[k]))
// whose unnormalised inverse DFT of m points is n (x[2j] + i x[2j+1]), as FFTW's c2r gives n x. As c2r, the
// imaginary parts of X[0] and X[m] are ignored.
void tangle(const float* __restrict x, const float* __restrict tw_re, const float* __restrict tw_im, int m,
            float* __restrict z) {
    z[0] = x[0] + x[2 * m];
    z[1] = x[0] - x[2 * m];
    int k = 1;
    const Float8 two = {2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f, 2.0f};
    for (; k + 8 <= m; k += 8) {
        const Float8 f0 = load8(x + 2 * k), f1 = load8(x + 2 * k + 8);
        const Float8 ar = shuffle_even(f0, f1), ai = shuffle_odd(f0, f1);
        const float* r = x + 2 * (m - k - 7);
        const Float8 r0 = load8(r), r1 = load8(r + 8);
        const Float8 br = shuffle_even_reversed(r0, r1), bi = -shuffle_odd_reversed(r0, r1);
        const Float8 er = ar + br, ei = ai + bi, dr = ar - br, di = ai - bi;
        // tw = (c, s) = (cos, -sin) / 2, so exp(+2 pi i k / n) = 2 (c, -s); i * that * d:
        const Float8 c = two * load8(tw_re + k), s = two * load8(tw_im + k);
        const Float8 pr = c * dr + s * di, pi = c * di - s * dr;  // exp(2 pi i k / n) d
        const Float8 zr = er - pi, zi = ei + pr;
        store8(z + 2 * k, shuffle_interleave_lo(zr, zi));
        store8(z + 2 * k + 8, shuffle_interleave_hi(zr, zi));
    }
    for (; k < m; ++k) {
        const float ar = x[2 * k], ai = x[2 * k + 1], br = x[2 * (m - k)], bi = -x[2 * (m - k) + 1];
        const float er = ar + br, ei = ai + bi, dr = ar - br, di = ai - bi;
        const float c = 2.0f * tw_re[k], s = 2.0f * tw_im[k];
        const float pr = c * dr + s * di, pi = c * di - s * dr;
        z[2 * k] = er - pi;
        z[2 * k + 1] = ei + pr;
    }
}

}  // namespace

void* RealFft::half_inverse_plan() const {
    std::call_once(m_half_inverse.once, [&] {
        std::lock_guard<std::mutex> lock(planner_mutex());
        const int half = m_n / 2;
        fftwf_complex* a = fftwf_alloc_complex(static_cast<std::size_t>(half));
        const unsigned flags = m_planning == FftPlanning::measure && m_n <= 16384 ? FFTW_MEASURE : FFTW_ESTIMATE;
        fftwf_plan p = fftwf_plan_dft_1d(half, a, a, FFTW_BACKWARD, flags);  // in place
        fftwf_free(a);
        if (!p) throw Error("FFT size " + std::to_string(half), "FFTW could not plan it");
        m_half_inverse.plan = p;
    });
    return m_half_inverse.plan;
}

void* RealFft::half_plan() const {
    std::call_once(m_half.once, [&] {
        std::lock_guard<std::mutex> lock(planner_mutex());
        const int half = m_n / 2;
        fftwf_complex* a = fftwf_alloc_complex(static_cast<std::size_t>(half));
        fftwf_complex* b = fftwf_alloc_complex(static_cast<std::size_t>(half));
        const unsigned flags = m_planning == FftPlanning::measure && m_n <= 16384 ? FFTW_MEASURE : FFTW_ESTIMATE;
        fftwf_plan p = fftwf_plan_dft_1d(half, a, b, FFTW_FORWARD, flags);
        fftwf_free(a);
        fftwf_free(b);
        if (!p) throw Error("FFT size " + std::to_string(half), "FFTW could not plan it");
        m_half.plan = p;
    });
    return m_half.plan;
}

void RealFft::forward(const float* in, std::complex<float>* out) const {
    const bool aligned = is_aligned(in) && is_aligned(out);
    if (aligned && !m_twiddle_re.empty()) {
        // Half-length complex FFT into `out` (n/2 of its n/2 + 1 slots), then untangled in place.
        fftwf_execute_dft(static_cast<fftwf_plan>(half_plan()), reinterpret_cast<fftwf_complex*>(const_cast<float*>(in)),
                          reinterpret_cast<fftwf_complex*>(out));
        untangle_in_place(reinterpret_cast<float*>(out), m_twiddle_re.data(), m_twiddle_im.data(), m_n / 2);
        return;
    }
    void* p = aligned ? plan(m_forward, true, true) : plan(m_forward_unaligned, true, false);
    // FFTW's r2c does not modify its input; the const_cast only satisfies the C signature.
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(p), const_cast<float*>(in), reinterpret_cast<fftwf_complex*>(out));
}

void RealFft::inverse(const std::complex<float>* in, float* out) const {
    const bool aligned = is_aligned(in) && is_aligned(out);
    if (aligned && !m_twiddle_re.empty()) {
        // Tangled into `out` (n floats = n/2 complex), then a half-length inverse complex FFT in place.
        tangle(reinterpret_cast<const float*>(in), m_twiddle_re.data(), m_twiddle_im.data(), m_n / 2, out);
        fftwf_execute_dft(static_cast<fftwf_plan>(half_inverse_plan()), reinterpret_cast<fftwf_complex*>(out),
                          reinterpret_cast<fftwf_complex*>(out));
        return;
    }
    void* p = aligned ? plan(m_inverse, false, true) : plan(m_inverse_unaligned, false, false);
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(p),
                          reinterpret_cast<fftwf_complex*>(const_cast<std::complex<float>*>(in)), out);
}

void RealFft::forward_power(const float* in, float* power, std::complex<float>* scratch) const {
    const std::size_t bins = static_cast<std::size_t>(m_n / 2 + 1);
    if (m_twiddle_re.empty() || !is_aligned(in) || !is_aligned(scratch)) {
        forward(in, scratch);
        for (std::size_t k = 0; k < bins; ++k) power[k] = std::norm(scratch[k]);
        return;
    }
    // The n real values, read as n/2 complex ones (even samples real, odd samples imaginary).
    fftwf_execute_dft(static_cast<fftwf_plan>(half_plan()), reinterpret_cast<fftwf_complex*>(const_cast<float*>(in)),
                      reinterpret_cast<fftwf_complex*>(scratch));
    untangle_power(reinterpret_cast<const float*>(scratch), m_twiddle_re.data(), m_twiddle_im.data(), m_n / 2, power);
}

std::shared_ptr<const RealFft> real_fft(int n) {
    static std::mutex cache_mutex;
    static std::map<int, std::shared_ptr<const RealFft>> cache;
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto& slot = cache[n];
    if (!slot) slot = std::make_shared<const RealFft>(n, default_planning().load());
    return slot;
}

void FftFree::operator()(void* p) const { fftwf_free(p); }

FftBuffer<float> fft_alloc_real(std::size_t n) {
    float* p = fftwf_alloc_real(n == 0 ? 1 : n);
    if (!p) throw Error("FFT buffer", "out of memory allocating " + std::to_string(n) + " floats");
    return FftBuffer<float>(p);
}

FftBuffer<std::complex<float>> fft_alloc_complex(std::size_t n) {
    fftwf_complex* p = fftwf_alloc_complex(n == 0 ? 1 : n);
    if (!p) throw Error("FFT buffer", "out of memory allocating " + std::to_string(n) + " complex values");
    return FftBuffer<std::complex<float>>(reinterpret_cast<std::complex<float>*>(p));
}

bool load_fft_wisdom(const char* path) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    return fftwf_import_wisdom_from_filename(path) != 0;
}

bool save_fft_wisdom(const char* path) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    return fftwf_export_wisdom_to_filename(path) != 0;
}

}  // namespace mtag::dsp
