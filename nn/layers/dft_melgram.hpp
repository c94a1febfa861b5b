#pragma once
// A log-mel front end inside the network whose transform is data: real and imaginary DFT kernels (n_dft,
// n_bins) and a mel matrix (n_bins, n_mels), as kapre 0.0.3's Melspectrogram layer stores them in Choi et
// al.'s compact convnet (ref: keunwoochoi/kapre time_frequency.py, backend_keras.amplitude_to_decibel).
// Computing from the stored matrices keeps the imported model exactly what was trained, window and filter
// bank included.
//
//   input  (N, S) or (N, 1, S) samples
//   frames TensorFlow 'SAME' framing (kapre forces border_mode 'same'): T = ceil(S / hop) frames, the input
//          zero-padded by pad_total = (T - 1) * hop + n_dft - S samples, floor(pad_total / 2) before it;
//          frame t covers samples [t * hop - pad_before, ... + n_dft)
//   power  (frame . dft_real)^2 + (frame . dft_imag)^2, then . mel  -> mel power (n_mels per frame)
//   dB     10 * log10(max(mel, amin)) minus the maximum of that example's dB map, floored at -dynamic_range
//   output (N, 1, n_mels, T)
//
// The matrices are buffers (trainable_kernel=False upstream), built zero: nn/ does not compute filter banks,
// so whoever builds a new model fills them through set_transform (data/run/fixed_front_end.hpp computes
// kapre's from dsp/), and a loaded model takes them from its weights file. There is no input gradient: the
// layer only ever sits first, on raw audio (backward returns an empty tensor and throws if one is asked for).
#include "nn/module.hpp"

#include <cstdint>

namespace mtag::nn {

struct DftMelgramOptions {
    std::int64_t n_dft = 512;
    std::int64_t hop_length = 256;
    std::int64_t n_mels = 96;
    double amin = 1e-10;
    double dynamic_range = 80.0;
};

class DftMelgram : public Module {
  public:
    explicit DftMelgram(const DftMelgramOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "DftMelgram"; }
    nlohmann::json config() const override;
    // Frames for `samples` input samples.
    std::int64_t frames(std::int64_t samples) const;
    const DftMelgramOptions& options() const { return m_options; }
    // Replaces the fixed transform: dft_real and dft_imag (n_dft, n_dft/2 + 1), mel (n_dft/2 + 1, n_mels).
    // Throws naming the tensor whose shape differs.
    void set_transform(const Tensor& dft_real, const Tensor& dft_imag, const Tensor& mel);

  private:
    DftMelgramOptions m_options;
    Buffer* m_real = nullptr;  // (n_dft, n_bins)
    Buffer* m_imag = nullptr;  // (n_dft, n_bins)
    Buffer* m_mel = nullptr;   // (n_bins, n_mels)
    Tensor m_frames, m_re, m_im, m_power, m_melpower;  // scratch, reused across calls
};

}  // namespace mtag::nn
