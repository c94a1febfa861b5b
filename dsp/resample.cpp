#include "dsp/resample.hpp"

#include "dsp/error.hpp"

#include <samplerate.h>

#include <algorithm>
#include <cmath>

namespace mtag::dsp {

namespace {

int converter_type(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::best: return SRC_SINC_BEST_QUALITY;
        case ResampleQuality::medium: return SRC_SINC_MEDIUM_QUALITY;
        case ResampleQuality::fastest: return SRC_SINC_FASTEST;
    }
    return SRC_SINC_MEDIUM_QUALITY;
}

// Frames the whole stream should have: round(frames_in * ratio), the length librosa and torchaudio give
// up to one frame.
std::size_t expected_frames(std::size_t frames_in, double ratio) {
    return static_cast<std::size_t>(std::llround(static_cast<double>(frames_in) * ratio));
}

}  // namespace

ResampleQuality parse_resample_quality(const std::string& name) {
    if (name == "best") return ResampleQuality::best;
    if (name == "medium") return ResampleQuality::medium;
    if (name == "fastest") return ResampleQuality::fastest;
    throw Error("resample quality '" + name + "'", "unknown; expected best, medium or fastest");
}

std::string to_string(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::best: return "best";
        case ResampleQuality::medium: return "medium";
        case ResampleQuality::fastest: return "fastest";
    }
    return "medium";
}

struct StreamingResampler::State {
    SRC_STATE* src = nullptr;
    std::vector<float> block;  // reused output block
};

StreamingResampler::StreamingResampler(int channels, int from_rate, int to_rate, ResampleQuality quality)
    : m_state(std::make_unique<State>()), m_channels(channels) {
    if (channels < 1) throw Error("resampler", "channel count must be at least 1, got " + std::to_string(channels));
    if (from_rate <= 0 || to_rate <= 0)
        throw Error("resampler", "sample rates must be positive, got " + std::to_string(from_rate) + " -> " +
                                     std::to_string(to_rate));
    m_ratio = static_cast<double>(to_rate) / from_rate;
    if (src_is_valid_ratio(m_ratio) == 0)
        throw Error("resampler", "ratio " + std::to_string(m_ratio) + " is outside libsamplerate's 1/256..256");
    int error = 0;
    m_state->src = src_new(converter_type(quality), channels, &error);
    if (m_state->src == nullptr) throw Error("resampler", std::string("libsamplerate: ") + src_strerror(error));
}

StreamingResampler::~StreamingResampler() {
    if (m_state && m_state->src) src_delete(m_state->src);
}

void StreamingResampler::run(std::span<const float> input, bool end_of_input, std::vector<float>& out) {
    const std::size_t in_frames = input.size() / m_channels;
    const std::size_t block_frames = static_cast<std::size_t>(std::ceil(4096 * m_ratio)) + 64;
    m_state->block.resize(block_frames * m_channels);
    SRC_DATA data{};
    data.src_ratio = m_ratio;
    data.end_of_input = end_of_input ? 1 : 0;
    std::size_t consumed = 0;
    const std::size_t chunk = 4096;  // input frames per call, so the output block always suffices
    const std::size_t target = expected_frames(m_frames_in + in_frames, m_ratio);
    while (true) {
        const std::size_t n = std::min(chunk, in_frames - consumed);
        data.data_in = input.data() + consumed * m_channels;
        data.input_frames = static_cast<long>(n);
        data.data_out = m_state->block.data();
        data.output_frames = static_cast<long>(block_frames);
        data.end_of_input = (end_of_input && consumed + n == in_frames) ? 1 : 0;
        const int error = src_process(m_state->src, &data);
        if (error != 0) throw Error("resampler", std::string("libsamplerate: ") + src_strerror(error));
        consumed += static_cast<std::size_t>(data.input_frames_used);
        std::size_t produced = static_cast<std::size_t>(data.output_frames_gen);
        if (end_of_input) produced = std::min(produced, target - std::min(target, m_frames_out));
        out.insert(out.end(), m_state->block.begin(), m_state->block.begin() + produced * m_channels);
        m_frames_out += produced;
        const bool input_done = consumed == in_frames;
        if (input_done && (!end_of_input || data.output_frames_gen == 0)) break;
        if (end_of_input && input_done && m_frames_out >= target) break;
    }
    m_frames_in += in_frames;
    if (end_of_input && m_frames_out < target) {
        // The sinc filter's tail can fall a frame short of the rounded length: pad with silence.
        out.insert(out.end(), (target - m_frames_out) * m_channels, 0.0f);
        m_frames_out = target;
    }
}

void StreamingResampler::process(std::span<const float> interleaved, std::vector<float>& out) {
    run(interleaved, false, out);
}

void StreamingResampler::finish(std::vector<float>& out) { run({}, true, out); }

std::vector<float> resample(std::span<const float> interleaved, int channels, int from_rate, int to_rate,
                            ResampleQuality quality) {
    if (from_rate == to_rate) return {interleaved.begin(), interleaved.end()};
    StreamingResampler resampler(channels, from_rate, to_rate, quality);
    std::vector<float> out;
    out.reserve((expected_frames(interleaved.size() / channels, resampler.ratio()) + 1) * channels);
    resampler.process(interleaved, out);
    resampler.finish(out);
    return out;
}

}  // namespace mtag::dsp
