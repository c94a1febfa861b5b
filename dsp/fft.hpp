#pragma once
// Real-input FFTs on FFTW (single precision). Plans are made once per size, cached process-wide, and
// executed from any thread through FFTW's new-array interface.
//
// Speed note: each size has SIMD plans that require FFTW-aligned buffers (fft_alloc_* / FftBuffer, or any
// pointer with the same alignment as one) and an unaligned fallback plan; forward()/inverse() pick the
// right one per call, so any buffer works but aligned buffers are faster. Each plan is made on first use,
// so a forward-only user never pays for planning the inverse.
//
// forward_power() computes |X|^2 through a complex FFT of n/2 points instead of FFTW's r2c: Debian's FFTW
// has SIMD codelets for complex transforms (AVX) but its r2c of 2048 points spends ~40% of its time in an
// SSE2 post-processing loop. Measured (EPYC, AVX-512, FFTW 3.3.10, informal): r2c 2048 + |X|^2 2.3 us,
// complex 1024 (0.75 us) + the untangling pass fused with |X|^2 below (0.35 us) 1.1 us; 512 points: 0.58 us
// against 0.27 us.
#include <complex>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace mtag::dsp {

// How much effort FFTW spends choosing an algorithm when a size is first planned.
// Measured on the development machine (AVX-512 EPYC, Debian FFTW 3.3.10): measure makes r2c transforms
// of 512 and 2048 points about 10% faster in isolation (no visible change end to end in the log-mel
// benchmark) but costs 0.2-0.5 s per size and direction to plan; batched
// plans (fftwf_plan_many_dft_r2c) gave no gain over single plans, so frames are transformed one by one.
enum class FftPlanning {
    estimate,  // heuristic, instant (FFTW_ESTIMATE)
    measure,   // times candidate algorithms once per size (FFTW_MEASURE); sizes above 16384 still use
               // estimate (planning them takes seconds). Results may differ from `estimate` in the last bit.
};

// Sets the planning effort for sizes first planned from now on by real_fft() (already cached sizes keep
// their plans). Default: estimate (see the measurements above); measure pays off only for very long
// jobs, ideally with load_fft_wisdom / save_fft_wisdom so later runs plan instantly.
void set_fft_planning(FftPlanning planning);
FftPlanning fft_planning();

// A pair of FFTW plans (r2c and c2r) for one transform size. Unnormalised like numpy.fft.rfft / irfft
// without the 1/n: inverse(forward(x)) == n * x.
class RealFft {
public:
    explicit RealFft(int n, FftPlanning planning = FftPlanning::estimate);  // plans lazily (see above)
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;

    int size() const { return m_n; }
    int bins() const { return m_n / 2 + 1; }

    // in: n real values; out: n/2 + 1 complex bins. Any alignment (aligned is faster); thread-safe.
    void forward(const float* in, std::complex<float>* out) const;
    // in: n/2 + 1 complex bins (not modified); out: n real values (unnormalised). Thread-safe.
    void inverse(const std::complex<float>* in, float* out) const;

    // Power spectrum |X[k]|^2, k in [0, n/2], of n real values: equal to std::norm of forward()'s bins
    // within float rounding (a few ulps of the frame's peak power), about twice as fast for even n (see the
    // speed note). in: n values, FFTW-aligned for the fast path (not modified); power: n/2 + 1 values;
    // scratch: scratch_size() complex values, FFTW-aligned (fft_alloc_complex). Thread-safe.
    void forward_power(const float* in, float* power, std::complex<float>* scratch) const;
    std::size_t scratch_size() const { return static_cast<std::size_t>(m_n / 2 + 1); }

private:
    // One FFTW plan made on first use (thread-safe through std::call_once and the planner mutex).
    struct LazyPlan {
        std::once_flag once;
        void* plan = nullptr;  // fftwf_plan
    };
    void* plan(LazyPlan& slot, bool forward, bool aligned) const;
    void* half_plan() const;          // m_half, made on first use
    void* half_inverse_plan() const;  // m_half_inverse, made on first use

    int m_n;
    FftPlanning m_planning;
    mutable LazyPlan m_forward;            // aligned arrays (SIMD)
    mutable LazyPlan m_inverse;            // aligned arrays (SIMD)
    mutable LazyPlan m_forward_unaligned;  // FFTW_UNALIGNED fallback
    mutable LazyPlan m_inverse_unaligned;  // FFTW_UNALIGNED fallback
    mutable LazyPlan m_half;               // complex FFT of n/2 points, aligned arrays (even n >= 16)
    mutable LazyPlan m_half_inverse;       // its inverse, in place
    std::vector<float> m_twiddle_re;       // cos(2 pi k / n) / 2, k in [0, n/2) (forward_power's untangling)
    std::vector<float> m_twiddle_im;       // -sin(2 pi k / n) / 2
};

// The cached transform of size n (created on first use with the current planning effort; FFTW's planner
// is guarded by a mutex).
std::shared_ptr<const RealFft> real_fft(int n);

// Memory aligned for FFTW's SIMD plans (fftwf_malloc); freed by FftFree.
struct FftFree {
    void operator()(void* p) const;
};
template <class T>
using FftBuffer = std::unique_ptr<T[], FftFree>;
// n floats / n complex values, aligned for SIMD, uninitialised.
FftBuffer<float> fft_alloc_real(std::size_t n);
FftBuffer<std::complex<float>> fft_alloc_complex(std::size_t n);

// Loads / saves FFTW wisdom so later runs plan faster; returns false when the file is absent or unreadable.
bool load_fft_wisdom(const char* path);
bool save_fft_wisdom(const char* path);

}  // namespace mtag::dsp
