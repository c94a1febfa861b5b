#include "dsp/fft.hpp"

#include "dsp/error.hpp"

#include <fftw3.h>

#include <map>
#include <mutex>

namespace mtag::dsp {

namespace {

// FFTW's planner is not thread-safe; execution of an existing plan is.
std::mutex& planner_mutex() {
    static std::mutex mutex;
    return mutex;
}

}  // namespace

RealFft::RealFft(int n) : m_n(n) {
    if (n < 1) throw Error("FFT size", "must be positive, got " + std::to_string(n));
    std::lock_guard<std::mutex> lock(planner_mutex());
    // Plans are made on scratch arrays and flagged UNALIGNED so new-array execution accepts any buffer.
    float* real = fftwf_alloc_real(static_cast<std::size_t>(n));
    fftwf_complex* spectrum = fftwf_alloc_complex(static_cast<std::size_t>(n / 2 + 1));
    const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
    m_forward = fftwf_plan_dft_r2c_1d(n, real, spectrum, flags);
    m_inverse = fftwf_plan_dft_c2r_1d(n, spectrum, real, flags | FFTW_PRESERVE_INPUT);
    if (m_inverse == nullptr) m_inverse = fftwf_plan_dft_c2r_1d(n, spectrum, real, flags);
    fftwf_free(real);
    fftwf_free(spectrum);
    if (m_forward == nullptr || m_inverse == nullptr) throw Error("FFT size " + std::to_string(n), "FFTW could not plan it");
}

RealFft::~RealFft() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    if (m_forward) fftwf_destroy_plan(static_cast<fftwf_plan>(m_forward));
    if (m_inverse) fftwf_destroy_plan(static_cast<fftwf_plan>(m_inverse));
}

void RealFft::forward(const float* in, std::complex<float>* out) const {
    // FFTW's r2c does not modify its input; the const_cast only satisfies the C signature.
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(m_forward), const_cast<float*>(in),
                          reinterpret_cast<fftwf_complex*>(out));
}

void RealFft::inverse(const std::complex<float>* in, float* out) const {
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(m_inverse),
                          reinterpret_cast<fftwf_complex*>(const_cast<std::complex<float>*>(in)), out);
}

std::shared_ptr<const RealFft> real_fft(int n) {
    static std::mutex cache_mutex;
    static std::map<int, std::shared_ptr<const RealFft>> cache;
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto& slot = cache[n];
    if (!slot) slot = std::make_shared<const RealFft>(n);
    return slot;
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
