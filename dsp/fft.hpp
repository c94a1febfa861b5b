#pragma once
// Real-input FFTs on FFTW (single precision). Plans are made once per size, cached process-wide, and
// executed from any thread through FFTW's new-array interface.
//
// Speed note: each size has SIMD plans that require FFTW-aligned buffers (fft_alloc / FftBuffer, or any
// pointer with the same alignment as one) and an unaligned fallback plan; forward()/inverse() pick the
// right one per call, so any buffer works but aligned buffers are about twice as fast.
#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace mtag::dsp {

// How much effort FFTW spends choosing an algorithm when a size is first planned.
enum class FftPlanning {
    estimate,  // heuristic, instant (FFTW_ESTIMATE)
    measure,   // times candidate algorithms once per size (FFTW_MEASURE; ~10-300 ms per size), faster
               // transforms afterwards. Results may differ from `estimate` in the last float bit.
};

// Sets the planning effort for sizes planned from now on (already cached sizes keep their plans).
// Default: measure.
void set_fft_planning(FftPlanning planning);

// A pair of FFTW plans (r2c and c2r) for one transform size. Unnormalised like numpy.fft.rfft / irfft
// without the 1/n: inverse(forward(x)) == n * x.
class RealFft {
public:
    explicit RealFft(int n, FftPlanning planning = FftPlanning::estimate);
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;

    int size() const { return m_n; }
    int bins() const { return m_n / 2 + 1; }

    // in: n real values; out: n/2 + 1 complex bins. Any alignment (aligned is faster); thread-safe.
    void forward(const float* in, std::complex<float>* out) const;
    // in: n/2 + 1 complex bins (not modified); out: n real values (unnormalised). Thread-safe.
    void inverse(const std::complex<float>* in, float* out) const;

private:
    int m_n;
    void* m_forward = nullptr;            // fftwf_plan on aligned arrays (SIMD)
    void* m_inverse = nullptr;            // fftwf_plan on aligned arrays (SIMD)
    void* m_forward_unaligned = nullptr;  // fftwf_plan, FFTW_UNALIGNED fallback
    void* m_inverse_unaligned = nullptr;  // fftwf_plan, FFTW_UNALIGNED fallback
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
