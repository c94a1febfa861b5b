#pragma once
// Real-input FFTs on FFTW (single precision). Plans are made once per size, cached process-wide, and
// executed from any thread through FFTW's new-array interface.
#include <complex>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace mtag::dsp {

// A pair of FFTW plans (r2c and c2r) for one transform size. Unnormalised like numpy.fft.rfft / irfft
// without the 1/n: inverse(forward(x)) == n * x.
class RealFft {
public:
    explicit RealFft(int n);
    ~RealFft();
    RealFft(const RealFft&) = delete;
    RealFft& operator=(const RealFft&) = delete;

    int size() const { return m_n; }
    int bins() const { return m_n / 2 + 1; }

    // in: n real values; out: n/2 + 1 complex bins. Any alignment; thread-safe.
    void forward(const float* in, std::complex<float>* out) const;
    // in: n/2 + 1 complex bins (not modified); out: n real values (unnormalised). Thread-safe.
    void inverse(const std::complex<float>* in, float* out) const;

private:
    int m_n;
    void* m_forward = nullptr;  // fftwf_plan
    void* m_inverse = nullptr;  // fftwf_plan
};

// The cached transform of size n (created on first use; FFTW's planner is guarded by a mutex).
std::shared_ptr<const RealFft> real_fft(int n);

// Loads / saves FFTW wisdom so later runs plan faster; returns false when the file is absent or unreadable.
bool load_fft_wisdom(const char* path);
bool save_fft_wisdom(const char* path);

}  // namespace mtag::dsp
