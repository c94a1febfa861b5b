#pragma once
// Sample-rate conversion: one API over two band-limited backends, libsoxr and libsamplerate.
//
// The quality names are librosa's res_type names for the same converters: soxr_vhq .. soxr_qq are
// libsoxr's recipes (what librosa's default 'soxr_hq' runs), sinc_best / sinc_medium / sinc_fastest are
// libsamplerate's sinc converters. `best`, `medium` and `fastest`, mtag's names before libsoxr, are
// aliases of the sinc_* names. scripts/resample_quality.py measures every one of them (passband
// flatness, stopband rejection, speed); the README has its table and why the default is soxr_hq.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtag::dsp {

enum class ResampleQuality {
    soxr_vhq,      // libsoxr SOXR_VHQ: 28-bit precision
    soxr_hq,       // libsoxr SOXR_HQ: 20-bit precision (librosa's default res_type)
    soxr_mq,       // libsoxr SOXR_MQ: 16-bit, medium roll-off
    soxr_lq,       // libsoxr SOXR_LQ: 16-bit, larger roll-off
    soxr_qq,       // libsoxr SOXR_QQ: 'quick' cubic interpolation (aliases audibly; for previews)
    sinc_best,     // libsamplerate SRC_SINC_BEST_QUALITY (alias "best")
    sinc_medium,   // libsamplerate SRC_SINC_MEDIUM_QUALITY (alias "medium")
    sinc_fastest,  // libsamplerate SRC_SINC_FASTEST (alias "fastest")
};

// The library a quality runs on.
enum class ResampleBackend { soxr, libsamplerate };
ResampleBackend backend_of(ResampleQuality quality);

// Decoding's default (mtag tag/extract/train, mtag.load): libsoxr HQ was faster than libsamplerate's
// medium converter at better measured quality (scripts/resample_quality.py; the README's table).
inline constexpr ResampleQuality default_resample_quality = ResampleQuality::soxr_hq;

// Every accepted name, for help texts and error messages: "soxr_vhq, soxr_hq, ..., sinc_fastest".
const std::string& resample_quality_names();
// Parses a name above or an alias (best, medium, fastest); throws mtag::Error listing the names otherwise.
ResampleQuality parse_resample_quality(const std::string& name);
// The canonical name (aliases are never returned: "medium" parses to sinc_medium, printed "sinc_medium").
std::string to_string(ResampleQuality quality);

// One backend's converter state (dsp/resample_soxr.cpp, dsp/resample_samplerate.cpp): consumes all its
// input and appends what output it has; flush() drains the filter's tail at the end of input. Its output
// is time-aligned with its input (the filter delay is removed); StreamingResampler fixes the length.
class ResampleKernel {
public:
    virtual ~ResampleKernel() = default;
    virtual void process(std::span<const float> interleaved, std::vector<float>& out) = 0;
    virtual void flush(std::vector<float>& out) = 0;
};

// Builds the backend's kernel for `quality` at the ratio to_rate / from_rate (rates may be fractional:
// pitch shift resamples by arbitrary ratios). Throws mtag::Error for a ratio the backend refuses.
std::unique_ptr<ResampleKernel> make_resample_kernel(int channels, double from_rate, double to_rate,
                                                     ResampleQuality quality);

// Resamples a whole interleaved signal. The output has round(frames * to / from) frames: the converter's
// delay is flushed, so a signal's timing is kept.
std::vector<float> resample(std::span<const float> interleaved, int channels, int from_rate, int to_rate,
                            ResampleQuality quality = default_resample_quality);

// A streaming resampler for long files: feed blocks, receive blocks; memory stays bounded by the block
// size. Output frames over the whole stream equal round(total_in * to / from) once finish() is called.
// Both backends give the one-shot result whatever the block sizes (the kernels are exact streaming
// filters), and one thread per converter, so results do not depend on a thread count.
class StreamingResampler {
public:
    StreamingResampler(int channels, int from_rate, int to_rate,
                       ResampleQuality quality = default_resample_quality);
    // An arbitrary ratio (output rate / input rate), for pitch shift.
    StreamingResampler(int channels, double ratio, ResampleQuality quality);
    ~StreamingResampler();
    StreamingResampler(const StreamingResampler&) = delete;
    StreamingResampler& operator=(const StreamingResampler&) = delete;

    // Converts one block of interleaved frames, appending the output to `out`.
    void process(std::span<const float> interleaved, std::vector<float>& out);
    // Flushes the converter's delay line; call once after the last block.
    void finish(std::vector<float>& out);

    double ratio() const { return m_ratio; }

private:
    void check_arguments(int channels, double ratio) const;

    std::unique_ptr<ResampleKernel> m_kernel;
    int m_channels;
    double m_ratio;
    std::size_t m_frames_in = 0;
    std::size_t m_frames_out = 0;
};

}  // namespace mtag::dsp
