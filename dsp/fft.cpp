#include "dsp/fft.hpp"

#include "dsp/error.hpp"

#include <fftw3.h>

#include <atomic>
#include <map>
#include <mutex>

namespace mtag::dsp {

namespace {

// FFTW's planner is not thread-safe; execution of an existing plan is.
std::mutex& planner_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::atomic<FftPlanning>& default_planning() {
    static std::atomic<FftPlanning> planning{FftPlanning::measure};
    return planning;
}

bool is_aligned(const void* p) { return fftwf_alignment_of(static_cast<float*>(const_cast<void*>(p))) == 0; }

}  // namespace

void set_fft_planning(FftPlanning planning) { default_planning().store(planning); }

RealFft::RealFft(int n, FftPlanning planning) : m_n(n) {
    if (n < 1) throw Error("FFT size", "must be positive, got " + std::to_string(n));
    std::lock_guard<std::mutex> lock(planner_mutex());
    // Plans are made on scratch arrays (MEASURE overwrites them); new-array execution then runs them on
    // the caller's buffers. The aligned plans may use SIMD, the UNALIGNED ones accept any pointer.
    float* real = fftwf_alloc_real(static_cast<std::size_t>(n));
    fftwf_complex* spectrum = fftwf_alloc_complex(static_cast<std::size_t>(n / 2 + 1));
    const unsigned effort = planning == FftPlanning::measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    m_forward = fftwf_plan_dft_r2c_1d(n, real, spectrum, effort);
    m_inverse = fftwf_plan_dft_c2r_1d(n, spectrum, real, effort | FFTW_PRESERVE_INPUT);
    const unsigned fallback = FFTW_ESTIMATE | FFTW_UNALIGNED;
    m_forward_unaligned = fftwf_plan_dft_r2c_1d(n, real, spectrum, fallback);
    m_inverse_unaligned = fftwf_plan_dft_c2r_1d(n, spectrum, real, fallback | FFTW_PRESERVE_INPUT);
    fftwf_free(real);
    fftwf_free(spectrum);
    if (!m_forward || !m_inverse || !m_forward_unaligned || !m_inverse_unaligned)
        throw Error("FFT size " + std::to_string(n), "FFTW could not plan it");
}

RealFft::~RealFft() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (void* plan : {m_forward, m_inverse, m_forward_unaligned, m_inverse_unaligned})
        if (plan) fftwf_destroy_plan(static_cast<fftwf_plan>(plan));
}

void RealFft::forward(const float* in, std::complex<float>* out) const {
    // FFTW's r2c does not modify its input; the const_cast only satisfies the C signature.
    void* plan = is_aligned(in) && is_aligned(out) ? m_forward : m_forward_unaligned;
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plan), const_cast<float*>(in),
                          reinterpret_cast<fftwf_complex*>(out));
}

void RealFft::inverse(const std::complex<float>* in, float* out) const {
    void* plan = is_aligned(in) && is_aligned(out) ? m_inverse : m_inverse_unaligned;
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(plan),
                          reinterpret_cast<fftwf_complex*>(const_cast<std::complex<float>*>(in)), out);
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
