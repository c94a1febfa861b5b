#include "dsp/resample.hpp"

#include "dsp/error.hpp"
#include "dsp/resample_samplerate.hpp"
#include "dsp/resample_soxr.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace mtag::dsp {

namespace {

constexpr std::array<std::pair<const char*, ResampleQuality>, 8> canonical_names = {{
    {"soxr_vhq", ResampleQuality::soxr_vhq},
    {"soxr_hq", ResampleQuality::soxr_hq},
    {"soxr_mq", ResampleQuality::soxr_mq},
    {"soxr_lq", ResampleQuality::soxr_lq},
    {"soxr_qq", ResampleQuality::soxr_qq},
    {"sinc_best", ResampleQuality::sinc_best},
    {"sinc_medium", ResampleQuality::sinc_medium},
    {"sinc_fastest", ResampleQuality::sinc_fastest},
}};

// mtag's names from before libsoxr, kept so existing configs, scripts and cards still parse.
constexpr std::array<std::pair<const char*, ResampleQuality>, 3> alias_names = {{
    {"best", ResampleQuality::sinc_best},
    {"medium", ResampleQuality::sinc_medium},
    {"fastest", ResampleQuality::sinc_fastest},
}};

// Frames the whole stream should have: round(frames_in * ratio), the length librosa and torchaudio give
// up to one frame.
std::size_t expected_frames(std::size_t frames_in, double ratio) {
    return static_cast<std::size_t>(std::llround(static_cast<double>(frames_in) * ratio));
}

}  // namespace

ResampleBackend backend_of(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::sinc_best:
        case ResampleQuality::sinc_medium:
        case ResampleQuality::sinc_fastest: return ResampleBackend::libsamplerate;
        default: return ResampleBackend::soxr;
    }
}

const std::string& resample_quality_names() {
    static const std::string names = [] {
        std::string s;
        for (const auto& [name, quality] : canonical_names) s += (s.empty() ? "" : ", ") + std::string(name);
        s += " (aliases: best = sinc_best, medium = sinc_medium, fastest = sinc_fastest)";
        return s;
    }();
    return names;
}

ResampleQuality parse_resample_quality(const std::string& name) {
    for (const auto& [known, quality] : canonical_names)
        if (name == known) return quality;
    for (const auto& [known, quality] : alias_names)
        if (name == known) return quality;
    throw Error("resample quality '" + name + "'", "unknown; expected one of " + resample_quality_names());
}

std::string to_string(ResampleQuality quality) {
    for (const auto& [name, known] : canonical_names)
        if (quality == known) return name;
    return "soxr_hq";
}

std::unique_ptr<ResampleKernel> make_resample_kernel(int channels, double from_rate, double to_rate,
                                                     ResampleQuality quality) {
    if (backend_of(quality) == ResampleBackend::soxr)
        return make_soxr_kernel(channels, from_rate, to_rate, quality);
    return make_samplerate_kernel(channels, to_rate / from_rate, quality);
}

void StreamingResampler::check_arguments(int channels, double ratio) const {
    if (channels < 1) throw Error("resampler", "channel count must be at least 1, got " + std::to_string(channels));
    // Both backends would accept more, but a ratio past 256 is a unit mistake (Hz vs kHz), not a request.
    if (!(ratio >= 1.0 / 256 && ratio <= 256))
        throw Error("resampler", "ratio " + std::to_string(ratio) + " is outside 1/256..256");
}

StreamingResampler::StreamingResampler(int channels, int from_rate, int to_rate, ResampleQuality quality)
    : m_channels(channels) {
    if (from_rate <= 0 || to_rate <= 0)
        throw Error("resampler", "sample rates must be positive, got " + std::to_string(from_rate) + " -> " +
                                     std::to_string(to_rate));
    m_ratio = static_cast<double>(to_rate) / from_rate;
    if (!(m_ratio >= 1.0 / 256 && m_ratio <= 256))  // say which rates: a file's header may hold a broken one
        throw Error("resampler", "cannot convert " + std::to_string(from_rate) + " Hz to " + std::to_string(to_rate) +
                                     " Hz: the ratio is outside 1/256..256");
    check_arguments(channels, m_ratio);
    // Integer rates go to the kernel as they are: libsoxr finds the exact rational ratio (160/441 for
    // 44.1 kHz -> 16 kHz) and runs a polyphase filter without coefficient interpolation.
    m_kernel = make_resample_kernel(channels, from_rate, to_rate, quality);
}

StreamingResampler::StreamingResampler(int channels, double ratio, ResampleQuality quality)
    : m_channels(channels), m_ratio(ratio) {
    check_arguments(channels, ratio);
    m_kernel = make_resample_kernel(channels, 1.0, ratio, quality);
}

StreamingResampler::~StreamingResampler() = default;

void StreamingResampler::process(std::span<const float> interleaved, std::vector<float>& out) {
    const std::size_t before = out.size();
    m_kernel->process(interleaved, out);
    m_frames_in += interleaved.size() / m_channels;
    m_frames_out += (out.size() - before) / m_channels;
}

void StreamingResampler::finish(std::vector<float>& out) {
    const std::size_t target = expected_frames(m_frames_in, m_ratio);
    const std::size_t before = out.size();
    m_kernel->flush(out);
    std::size_t produced = (out.size() - before) / m_channels;
    // The tail a converter flushes may run a frame or so past the rounded length, or fall short of it:
    // cut, or pad with silence, so every backend gives round(frames * ratio).
    const std::size_t wanted = target - std::min(target, m_frames_out);
    if (produced > wanted) {
        out.resize(before + wanted * m_channels);
        produced = wanted;
    }
    m_frames_out += produced;
    if (m_frames_out < target) {
        out.insert(out.end(), (target - m_frames_out) * m_channels, 0.0f);
        m_frames_out = target;
    }
}

std::vector<float> resample(std::span<const float> interleaved, int channels, int from_rate, int to_rate,
                            ResampleQuality quality) {
    if (from_rate == to_rate) return {interleaved.begin(), interleaved.end()};
    StreamingResampler resampler(channels, from_rate, to_rate, quality);
    std::vector<float> out;
    out.reserve((expected_frames(interleaved.size() / channels, resampler.ratio()) + 64) * channels);
    resampler.process(interleaved, out);
    resampler.finish(out);
    return out;
}

}  // namespace mtag::dsp
