#include "dsp/resample_samplerate.hpp"

#include "dsp/error.hpp"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace mtag::dsp {

namespace {

int converter_type(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::sinc_best: return SRC_SINC_BEST_QUALITY;
        case ResampleQuality::sinc_medium: return SRC_SINC_MEDIUM_QUALITY;
        case ResampleQuality::sinc_fastest: return SRC_SINC_FASTEST;
        default: break;
    }
    throw Error("resampler", "quality '" + to_string(quality) + "' is not a libsamplerate converter");
}

class SamplerateKernel final : public ResampleKernel {
public:
    SamplerateKernel(int channels, double ratio, ResampleQuality quality) : m_channels(channels), m_ratio(ratio) {
        if (src_is_valid_ratio(ratio) == 0)
            throw Error("resampler", "ratio " + std::to_string(ratio) + " is outside libsamplerate's 1/256..256");
        int error = 0;
        m_src = src_new(converter_type(quality), channels, &error);
        if (m_src == nullptr) throw Error("resampler", std::string("libsamplerate: ") + src_strerror(error));
    }
    ~SamplerateKernel() override { src_delete(m_src); }
    SamplerateKernel(const SamplerateKernel&) = delete;
    SamplerateKernel& operator=(const SamplerateKernel&) = delete;

    void process(std::span<const float> interleaved, std::vector<float>& out) override {
        run(interleaved, false, out);
    }
    void flush(std::vector<float>& out) override { run({}, true, out); }

private:
    // Feeds the input in chunks of 4096 frames so the output block always suffices; at the end of input,
    // calls until the converter has nothing left (libsamplerate keeps the output time-aligned).
    void run(std::span<const float> input, bool end_of_input, std::vector<float>& out) {
        constexpr std::size_t chunk = 4096;
        const std::size_t in_frames = input.size() / m_channels;
        const std::size_t block_frames = static_cast<std::size_t>(std::ceil(chunk * m_ratio)) + 64;
        m_block.resize(block_frames * m_channels);
        std::size_t consumed = 0;
        while (true) {
            const std::size_t n = std::min(chunk, in_frames - consumed);
            SRC_DATA data{};
            data.data_in = input.data() + consumed * m_channels;
            data.input_frames = static_cast<long>(n);
            data.data_out = m_block.data();
            data.output_frames = static_cast<long>(block_frames);
            data.end_of_input = (end_of_input && consumed + n == in_frames) ? 1 : 0;
            data.src_ratio = m_ratio;
            const int error = src_process(m_src, &data);
            if (error != 0) throw Error("resampler", std::string("libsamplerate: ") + src_strerror(error));
            consumed += static_cast<std::size_t>(data.input_frames_used);
            const auto produced = static_cast<std::size_t>(data.output_frames_gen);
            out.insert(out.end(), m_block.begin(), m_block.begin() + static_cast<std::ptrdiff_t>(produced * m_channels));
            if (consumed == in_frames && (!end_of_input || produced == 0)) break;
        }
    }

    SRC_STATE* m_src = nullptr;
    std::size_t m_channels;
    double m_ratio;
    std::vector<float> m_block;  // reused output block
};

}  // namespace

std::unique_ptr<ResampleKernel> make_samplerate_kernel(int channels, double ratio, ResampleQuality quality) {
    return std::make_unique<SamplerateKernel>(channels, ratio, quality);
}

}  // namespace mtag::dsp
