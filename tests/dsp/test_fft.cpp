#include "dsp/error.hpp"
#include "dsp/fft.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <random>
#include <thread>

using namespace mtag::dsp;

namespace {

// numpy.fft.rfft written out in double.
std::complex<double> direct_bin(const std::vector<float>& x, int k) {
    std::complex<double> sum = 0.0;
    const double n = static_cast<double>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) sum += double(x[i]) * std::polar(1.0, -2.0 * std::numbers::pi * k * i / n);
    return sum;
}

}  // namespace

TEST_CASE("fft: aligned and unaligned buffers give the DFT, and inverse(forward(x)) = n x", "[fft]") {
    for (FftPlanning planning : {FftPlanning::estimate, FftPlanning::measure}) {
        const int n = 48;  // not a power of two
        RealFft fft(n, planning);
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        std::vector<float> x(n);
        for (auto& v : x) v = dist(rng);

        FftBuffer<float> in = fft_alloc_real(n + 1);
        FftBuffer<std::complex<float>> out = fft_alloc_complex(fft.bins() + 1);
        std::copy(x.begin(), x.end(), in.get());
        fft.forward(in.get(), out.get());
        // Shifted by one element: not SIMD-aligned, the fallback plan runs.
        std::copy(x.begin(), x.end(), in.get() + 1);
        std::vector<std::complex<float>> shifted(fft.bins() + 1);
        fft.forward(in.get() + 1, shifted.data() + 1);
        for (int k = 0; k < fft.bins(); ++k) {
            const auto ref = direct_bin(x, k);
            CHECK(std::abs(std::complex<double>(out[k]) - ref) < 1e-5);
            CHECK(std::abs(std::complex<double>(shifted[k + 1]) - ref) < 1e-5);
        }
        std::vector<float> back(n + 1);
        fft.inverse(out.get(), back.data() + 1);
        for (int i = 0; i < n; ++i) CHECK(back[i + 1] == Approx(n * x[i]).margin(1e-4));
    }
    CHECK_THROWS_AS(RealFft(0), mtag::Error);
}

TEST_CASE("fft: cached plans are shared and run concurrently", "[fft]") {
    CHECK(real_fft(256) == real_fft(256));
    const auto fft = real_fft(256);
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            FftBuffer<float> in = fft_alloc_real(256);
            FftBuffer<std::complex<float>> out = fft_alloc_complex(129);
            bool good = true;
            for (int rep = 0; rep < 200; ++rep) {
                for (int i = 0; i < 256; ++i) in[i] = std::cos(2.0f * std::numbers::pi_v<float> * (t + 1) * i / 256.0f);
                fft->forward(in.get(), out.get());
                good = good && std::abs(out[t + 1].real() - 128.0f) < 1e-3f && std::abs(out[0]) < 1e-3f;
            }
            ok[t] = good;
        });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) CHECK(ok[t] == 1);
}

TEST_CASE("fft: forward_power equals |DFT|^2 for even, odd, small and large sizes", "[fft]") {
    // Even sizes >= 16 take the half-length complex FFT (with its vector loop and scalar tail: 24 has
    // m = 12, so both run); 10 (too small) and 45 (odd) take r2c; the unaligned input takes r2c too.
    for (int n : {10, 16, 24, 45, 48, 512, 2048}) {
        RealFft fft(n);
        std::mt19937_64 rng(static_cast<unsigned>(n));
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        std::vector<float> x(static_cast<std::size_t>(n));
        for (auto& v : x) v = dist(rng);
        FftBuffer<float> in = fft_alloc_real(static_cast<std::size_t>(n) + 1);
        FftBuffer<std::complex<float>> scratch = fft_alloc_complex(fft.scratch_size());
        std::vector<float> power(static_cast<std::size_t>(fft.bins()) + 1, -1.0f), shifted(power);
        std::copy(x.begin(), x.end(), in.get());
        fft.forward_power(in.get(), power.data(), scratch.get());
        std::copy(x.begin(), x.end(), in.get() + 1);
        fft.forward_power(in.get() + 1, shifted.data(), scratch.get());
        double peak = 0.0;
        for (int k = 0; k < fft.bins(); ++k) peak = std::max(peak, std::norm(direct_bin(x, k)));
        for (int k = 0; k < fft.bins(); ++k) {
            const double ref = std::norm(direct_bin(x, k));
            INFO("n " << n << " bin " << k);
            CHECK(std::abs(power[static_cast<std::size_t>(k)] - ref) <= 1e-6 * peak);
            CHECK(std::abs(shifted[static_cast<std::size_t>(k)] - ref) <= 1e-6 * peak);
        }
        CHECK(power[static_cast<std::size_t>(fft.bins())] == -1.0f);  // nothing written past n/2 + 1 bins
    }
}
