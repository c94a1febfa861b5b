// libFuzzer target: dsp::read_audio_info, dsp::load_audio (libsndfile, then mono and resampling) and
// dsp::AudioStream on a file holding the fuzzer's bytes. The first byte picks the extension (libsndfile
// mostly sniffs the content, but RAW-ish formats and our own checks look at the name) and the options:
// resampled, kept interleaved, read from an offset.
#include "dsp/audio_io.hpp"
#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"
#include "fuzz_support.hpp"

#include <array>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static constexpr std::array<const char*, 6> extensions = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".au"};
    const auto path = mtag::fuzz::write_input(std::string("input") + extensions[data[0] % extensions.size()],
                                              data + 1, size - 1);
    try {
        (void)mtag::dsp::read_audio_info(path);
    } catch (const mtag::Error&) {
    }
    try {
        mtag::dsp::LoadOptions options;
        if (data[0] % 4 == 0) options.sample_rate = 8000;
        if (data[0] % 3 == 1) options.mono = false;          // the interleaved paths
        if (data[0] % 5 == 2) options.offset_seconds = 0.01;  // the decoders' seek
        options.duration_seconds = 30.0;  // bounded work per input; a long file decodes in chunks anyway
        (void)mtag::dsp::load_audio(path, options);
    } catch (const mtag::Error&) {
    }
    try {  // the block-wise reader of extract and tag (its own FLAC/MP3/libsndfile paths)
        mtag::dsp::AudioStream stream(path, data[0] % 4 == 0 ? 8000 : 16000);
        std::vector<float> samples;
        for (int blocks = 0; blocks < 64 && stream.read(samples, 4096); ++blocks) {
        }
    } catch (const mtag::Error&) {
    }
    return 0;
}
