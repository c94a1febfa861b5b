#pragma once
// A streaming fractional advance by a fixed fraction of a sample: y[k] = x(k + d), 0 < d < 1, through a
// Kaiser-windowed sinc FIR. It realigns the reduced-rate MP3 synthesis (dsp/mp3_decoder.hpp), whose grid can
// lie one native sample before the full-rate one, onto the full-rate grid before resampling. Only the band
// below `cutoff` matters there (the resampler removes the rest), so the filter is a low-pass with that edge.
#include <span>
#include <vector>

namespace mtag::dsp {

class FractionalDelay {
public:
    // `advance` in samples (0 < advance < 1); `cutoff` the band edge in cycles per sample (< 0.5) below
    // which the response is flat (ripple < 1e-5) with exactly the advance's phase.
    FractionalDelay(double advance, double cutoff);

    // Appends as many output samples as inputs pushed so far allow (the filter looks `half_length()` samples
    // ahead, so output lags input by that much until finish()).
    void process(std::span<const float> x, std::vector<float>& out);
    // Flushes the look-ahead (zeros past the end); total output equals total input.
    void finish(std::vector<float>& out);

    int half_length() const { return m_half; }
    // Complex response at `f` cycles per sample, for tests: magnitude and phase error against e^{i 2 pi f d}.
    double magnitude_error(double f) const;
    double phase_error(double f) const;

private:
    void emit(std::vector<float>& out, std::size_t count);

    double m_advance;
    int m_half;                  // taps h[-half+1 .. half] applied to x[k-half+1 .. k+half]
    std::vector<float> m_taps;   // 2 * half taps, m_taps[j] multiplies x[k - half + 1 + j]
    std::vector<float> m_buffer; // pending input, starting at x[m_next - half + 1] (zeros before 0)
    std::size_t m_received = 0;  // inputs pushed
    std::size_t m_next = 0;      // next output index
};

}  // namespace mtag::dsp
