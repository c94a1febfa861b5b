#pragma once
// Analysis windows for the STFT. Periodic ("DFT-even") by default, as librosa / scipy.signal.get_window(
// fftbins=True) and torch.hann_window(periodic=True) make them: w[n] uses 2*pi*n/N for n = 0..N-1, so the
// window tiles exactly at hop N/4 and its last sample is not 0. Symmetric windows (2*pi*n/(N-1)) are
// what scipy.signal.windows.hann(N) returns and are for filter design, not for spectrograms.
#include <string>
#include <string_view>
#include <vector>

namespace mtag::dsp {

enum class WindowKind {
    hann,         // 0.5 - 0.5 cos(2 pi n / N)
    hamming,      // 0.54 - 0.46 cos(2 pi n / N)
    blackman,     // 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
    rectangular,  // all ones (librosa's "ones" / "boxcar")
};

// Parses "hann" (also "hanning"), "hamming", "blackman", "ones" / "rectangular" / "boxcar";
// throws mtag::Error naming the accepted values otherwise.
WindowKind parse_window_kind(std::string_view name);

// The canonical name: "hann", "hamming", "blackman", "rectangular".
std::string window_name(WindowKind kind);

// A window of `length` samples (length >= 1), computed in double and rounded to float.
// periodic = true is the spectral-analysis convention (librosa's default); false gives the symmetric one.
std::vector<float> make_window(WindowKind kind, int length, bool periodic = true);

}  // namespace mtag::dsp
