#include "dsp/resample_soxr.hpp"

#include "dsp/error.hpp"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace mtag::dsp {

namespace {

unsigned long soxr_recipe(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::soxr_vhq: return SOXR_VHQ;
        case ResampleQuality::soxr_hq: return SOXR_HQ;
        case ResampleQuality::soxr_mq: return SOXR_MQ;
        case ResampleQuality::soxr_lq: return SOXR_LQ;
        case ResampleQuality::soxr_qq: return SOXR_QQ;
        default: break;
    }
    throw Error("resampler", "quality '" + to_string(quality) + "' is not a libsoxr recipe");
}

class SoxrKernel final : public ResampleKernel {
public:
    SoxrKernel(int channels, double from_rate, double to_rate, ResampleQuality quality)
        : m_channels(channels), m_ratio(to_rate / from_rate) {
        // The recipe exactly as librosa's res_type='soxr_hq' builds it (python-soxr:
        // soxr_quality_spec(recipe, 0)), so mtag.load and librosa.load agree to float rounding.
        const soxr_quality_spec_t quality_spec = soxr_quality_spec(soxr_recipe(quality), 0);
        const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        // One thread per converter, whatever OMP_NUM_THREADS says: mtag parallelises over files and
        // clips, and a converter's output must not depend on a thread count.
        const soxr_runtime_spec_t runtime_spec = soxr_runtime_spec(1);
        soxr_error_t error = nullptr;
        m_soxr = soxr_create(from_rate, to_rate, static_cast<unsigned>(channels), &error, &io_spec,
                             &quality_spec, &runtime_spec);
        if (error != nullptr || m_soxr == nullptr)
            throw Error("resampler", "libsoxr cannot convert " + std::to_string(from_rate) + " -> " +
                                         std::to_string(to_rate) + " Hz: " + (error ? error : "unknown error"));
    }
    ~SoxrKernel() override { soxr_delete(m_soxr); }
    SoxrKernel(const SoxrKernel&) = delete;
    SoxrKernel& operator=(const SoxrKernel&) = delete;

    void process(std::span<const float> interleaved, std::vector<float>& out) override {
        run(interleaved.data(), interleaved.size() / m_channels, out);
    }

    void flush(std::vector<float>& out) override { run(nullptr, 0, out); }

private:
    // Feeds `frames` frames (in == nullptr: end of input) and appends every output frame libsoxr has.
    // libsoxr may hold input back when the output space runs out, so this loops until the input is used
    // and an output block comes back less than full.
    void run(const float* in, std::size_t frames, std::vector<float>& out) {
        // Output goes through a scratch block, not straight into `out`: growing `out` past its reserved
        // capacity would double a long file's buffer.
        const std::size_t block = std::min<std::size_t>(
            65536, std::max<std::size_t>(
                       4096, static_cast<std::size_t>(std::ceil(static_cast<double>(frames) * m_ratio)) + 256));
        m_block.resize(block * m_channels);
        std::size_t used_total = 0;
        while (true) {
            std::size_t used = 0, produced = 0;
            const float* feed = in == nullptr ? nullptr : in + used_total * m_channels;
            const soxr_error_t error =
                soxr_process(m_soxr, feed, frames - used_total, &used, m_block.data(), block, &produced);
            if (error != nullptr) throw Error("resampler", std::string("libsoxr: ") + error);
            out.insert(out.end(), m_block.begin(), m_block.begin() + static_cast<std::ptrdiff_t>(produced * m_channels));
            used_total += used;
            if (used_total >= frames && produced < block) break;
        }
    }

    soxr_t m_soxr = nullptr;
    std::vector<float> m_block;  // reused output block
    std::size_t m_channels;
    double m_ratio;
};

}  // namespace

std::unique_ptr<ResampleKernel> make_soxr_kernel(int channels, double from_rate, double to_rate,
                                                 ResampleQuality quality) {
    return std::make_unique<SoxrKernel>(channels, from_rate, to_rate, quality);
}

}  // namespace mtag::dsp
