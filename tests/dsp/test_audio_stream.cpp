// Tests dsp/audio_stream: block-wise decoding gives load_audio's samples (exactly without resampling,
// the same count with it) and clear errors for bad files.
#include "dsp/audio_io.hpp"
#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"

#include <catch2/catch.hpp>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace mtag::dsp;
namespace fs = std::filesystem;

namespace {

fs::path stereo_file(const std::string& name, int sample_rate, std::size_t frames) {
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "audio_stream";
    fs::create_directories(dir);
    Audio audio;
    audio.sample_rate = sample_rate;
    audio.channels = 2;
    for (std::size_t i = 0; i < frames; ++i) {
        audio.samples.push_back(static_cast<float>(0.5 * std::sin(0.01 * static_cast<double>(i))));
        audio.samples.push_back(static_cast<float>(0.25 * std::cos(0.003 * static_cast<double>(i))));
    }
    save_audio(dir / name, audio, SampleFormat::float32);
    return dir / name;
}

std::vector<float> read_all(AudioStream& stream, std::size_t block) {
    std::vector<float> all;
    std::size_t calls = 0;
    while (stream.read(all, block)) ++calls;
    CHECK(calls > 1);
    CHECK_FALSE(stream.read(all, block));  // stays exhausted
    return all;
}

}  // namespace

TEST_CASE("audio stream without resampling equals load_audio mono") {
    const fs::path path = stereo_file("native.wav", 16000, 50000);
    AudioStream stream(path, 16000);
    CHECK(stream.channels() == 2);
    CHECK(stream.expected_samples() == 50000);
    const std::vector<float> streamed = read_all(stream, 4096);
    const Audio loaded = load_audio(path);
    REQUIRE(streamed.size() == loaded.samples.size());
    CHECK(streamed == loaded.samples);
}

TEST_CASE("audio stream with resampling yields the expected sample count") {
    const fs::path path = stereo_file("rate.wav", 44100, 44100 * 2 + 17);
    AudioStream stream(path, 16000);
    const std::vector<float> streamed = read_all(stream, 10000);
    CHECK(static_cast<std::int64_t>(streamed.size()) == stream.expected_samples());
    CHECK(stream.expected_samples() == std::llround((44100 * 2 + 17) * 16000.0 / 44100.0));
    const Audio loaded = load_audio(path, {.sample_rate = 16000});
    REQUIRE(loaded.samples.size() == streamed.size());
    float worst = 0;
    for (std::size_t i = 0; i < streamed.size(); ++i)
        worst = std::max(worst, std::abs(streamed[i] - loaded.samples[i]));
    CHECK(worst < 1e-3f);
}

TEST_CASE("audio stream names a missing or undecodable file") {
    CHECK_THROWS_WITH(AudioStream(fs::path(MTAG_TEST_TMP) / "nowhere.wav", 16000),
                      Catch::Contains("nowhere.wav"));
    const fs::path junk = fs::path(MTAG_TEST_TMP) / "audio_stream" / "junk.wav";
    fs::create_directories(junk.parent_path());
    std::ofstream(junk) << "not audio at all";
    CHECK_THROWS_WITH(AudioStream(junk, 16000), Catch::Contains("junk.wav"));
}

TEST_CASE("audio stream of a file whose header claims an endless length (fuzz regression)") {
    // fuzz_load_audio found an Ogg/Vorbis file for which libsndfile reports SF_COUNT_MAX frames: AudioStream's
    // resampled length overflowed (UB, which the ASan/UBSan build reports), load_audio reserved 2^63 samples and
    // `mtag tag` failed with std::bad_alloc. libsndfile gives that count when the last page's checksum is
    // wrong (it cannot read the final granule position), which is how this file is made.
    const fs::path dir = fs::path(MTAG_TEST_TMP) / "audio_stream";
    fs::create_directories(dir);
    const fs::path path = dir / "endless.ogg";
    Audio audio;
    audio.sample_rate = 8000;
    audio.channels = 1;
    for (int i = 0; i < 8000; ++i) audio.samples.push_back(static_cast<float>(0.3 * std::sin(0.05 * i)));
    save_audio(path, audio);
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::size_t last_page = bytes.rfind("OggS");
    REQUIRE(last_page != std::string::npos);
    bytes[last_page + 22] = static_cast<char>(bytes[last_page + 22] ^ 0xff);  // the page's CRC-32 field
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    {
        SF_INFO info{};
        SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
        REQUIRE(file != nullptr);
        sf_close(file);
        REQUIRE(info.frames == SF_COUNT_MAX);  // the case this test is about
    }

    // The header's count is replaced by the decoded one, which the file bounds.
    const AudioInfo info = read_audio_info(path);
    CHECK(info.frames == count_audio_frames(path));
    CHECK(info.frames < 8192 * static_cast<std::int64_t>(bytes.size()));
    std::vector<float> out;
    try {
        AudioStream stream(path, 16000);
        CHECK(stream.expected_samples() < 8192 * static_cast<std::int64_t>(bytes.size()));
        while (stream.read(out, 4096)) {
        }
    } catch (const mtag::Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("endless.ogg"));  // nothing decodable: refused, by name
    }
    for (float v : out) REQUIRE(std::isfinite(v));
}
