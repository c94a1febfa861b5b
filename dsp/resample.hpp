#pragma once
// Sample-rate conversion with libsamplerate's band-limited sinc converters.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

// libsamplerate converters, named after their quality. `medium` is the default (SRC_SINC_MEDIUM_QUALITY,
// about 121 dB SNR, 90% bandwidth); `best` is SRC_SINC_BEST_QUALITY (librosa's 'soxr_hq'-like);
// `fastest` is SRC_SINC_FASTEST (97 dB, 80% bandwidth).
enum class ResampleQuality { best, medium, fastest };

// Parses "best" | "medium" | "fastest"; throws mtag::Error otherwise.
ResampleQuality parse_resample_quality(const std::string& name);
std::string to_string(ResampleQuality quality);

// Resamples a whole interleaved signal. The output has round(frames * to / from) frames: the converter's
// delay is flushed, so a signal's timing is kept.
std::vector<float> resample(std::span<const float> interleaved, int channels, int from_rate, int to_rate,
                            ResampleQuality quality = ResampleQuality::medium);

// A streaming resampler for long files: feed blocks, receive blocks; memory stays bounded by the block
// size. Output frames over the whole stream equal round(total_in * to / from) once finish() is called.
class StreamingResampler {
public:
    StreamingResampler(int channels, int from_rate, int to_rate,
                       ResampleQuality quality = ResampleQuality::medium);
    ~StreamingResampler();
    StreamingResampler(const StreamingResampler&) = delete;
    StreamingResampler& operator=(const StreamingResampler&) = delete;

    // Converts one block of interleaved frames, appending the output to `out`.
    void process(std::span<const float> interleaved, std::vector<float>& out);
    // Flushes the converter's delay line; call once after the last block.
    void finish(std::vector<float>& out);

    double ratio() const { return m_ratio; }

private:
    void run(std::span<const float> input, bool end_of_input, std::vector<float>& out);

    struct State;
    std::unique_ptr<State> m_state;
    int m_channels;
    double m_ratio;
    std::size_t m_frames_in = 0;
    std::size_t m_frames_out = 0;
};

}  // namespace mtag::dsp
