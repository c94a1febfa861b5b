#include "dsp/sample_block.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace mtag::dsp {

void mix_to_mono(std::span<const float> interleaved, int channels, std::span<float> mono) {
    const std::size_t frames = mono.size();
    const float* in = interleaved.data();
    float* out = mono.data();
    const float scale = 1.0f / static_cast<float>(channels);
    if (channels == 1) {
        std::copy_n(in, frames, out);
    } else if (channels == 2) {  // the common case, as a loop of fixed stride the compiler vectorises
        for (std::size_t i = 0; i < frames; ++i) out[i] = (in[2 * i] + in[2 * i + 1]) * scale;
    } else {
        for (std::size_t i = 0; i < frames; ++i) {
            float sum = 0.0f;
            for (int c = 0; c < channels; ++c) sum += in[i * static_cast<std::size_t>(channels) + c];
            out[i] = sum * scale;
        }
    }
}

std::size_t first_non_finite(std::span<const float> values) {
    // A float is NaN or infinite when its exponent bits are all ones. OR-ing that test over a block has no
    // early exit, so it vectorises; only a block that has one is searched again.
    constexpr std::size_t block = 1024;
    for (std::size_t start = 0; start < values.size(); start += block) {
        const std::size_t end = std::min(values.size(), start + block);
        std::uint32_t bad = 0;
        for (std::size_t i = start; i < end; ++i) {
            std::uint32_t bits;
            std::memcpy(&bits, &values[i], sizeof(bits));
            bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
        }
        if (bad != 0)
            for (std::size_t i = start; i < end; ++i)
                if (!std::isfinite(values[i])) return i;
    }
    return values.size();
}

}  // namespace mtag::dsp
