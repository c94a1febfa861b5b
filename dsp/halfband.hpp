#pragma once
// Decimation by two with a linear-phase half-band FIR (Kaiser-windowed sinc): the anti-aliasing step of
// the recursive constant-Q transform (dsp/cqt.hpp). Zero delay: output sample m is centred on input
// sample 2m, samples outside the input are zero, and the output has ceil(n / 2) samples, the length
// librosa.resample(y, orig_sr=2, target_sr=1) returns. Unit gain at DC (librosa's `scale=True` factor
// sqrt(2) is left to the caller).
#include <span>
#include <vector>

namespace mtag::dsp {

// Flat to 0.9 of the output Nyquist frequency (ripple < 1e-5), at least 100 dB down from 1.1 of it;
// 147 taps of which 38 are non-zero (every even tap but the centre of a half-band filter is zero).
class HalfbandDecimator {
public:
    HalfbandDecimator();

    // Writes ceil(x.size() / 2) samples to `out` (resized). Reuses internal scratch, so one object per
    // thread; `x` and `out` must not overlap.
    void process(std::span<const float> x, std::vector<float>& out);

    // Magnitude of the filter's frequency response at `f` cycles per input sample (0 .. 0.5).
    double response(double f) const;

    // Number of taps on each side of the centre (the filter spans 2 * half_length() + 1 input samples).
    int half_length() const { return 2 * static_cast<int>(m_odd_taps.size()) - 1; }

private:
    float m_centre = 0.5f;          // h[0]
    std::vector<float> m_odd_taps;  // h[1], h[3], h[5], ...; h[-k] = h[k]
    std::vector<float> m_odd;       // scratch: the odd-indexed input samples, zero-padded on both sides
};

}  // namespace mtag::dsp
