// Tests for dsp/audio_io: round trips per format, partial reads, and one clear error per bad input.
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"
#include "support/signals.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <random>

using namespace mtag;
using mtag::test::TempDir;

namespace {

// Stereo test audio whose samples are exact multiples of 1/32768, so PCM16 stores them losslessly.
dsp::Audio pcm16_exact_audio(int sample_rate, std::size_t frames) {
    dsp::Audio audio;
    audio.sample_rate = sample_rate;
    audio.channels = 2;
    audio.samples.resize(frames * 2);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> value(-20000, 20000);
    for (float& s : audio.samples) s = static_cast<float>(value(rng)) / 32768.0f;
    return audio;
}

dsp::Audio mono(std::vector<float> samples, int sample_rate) {
    dsp::Audio audio;
    audio.samples = std::move(samples);
    audio.sample_rate = sample_rate;
    audio.channels = 1;
    return audio;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// SNR in dB of `decoded` against `reference` after aligning by the best lag in [0, max_lag]: lossy
// codecs may add encoder delay.
double aligned_snr_db(const std::vector<float>& reference, const std::vector<float>& decoded, int max_lag) {
    double best = -1e9;
    const std::size_t n = std::min(reference.size(), decoded.size()) - max_lag - 1;
    for (int lag = 0; lag <= max_lag; ++lag) {
        double signal = 0, noise = 0;
        for (std::size_t i = 2000; i < n; ++i) {
            const double r = reference[i];
            const double e = decoded[i + lag] - r;
            signal += r * r;
            noise += e * e;
        }
        best = std::max(best, 10 * std::log10(signal / std::max(noise, 1e-30)));
    }
    return best;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("WAV and FLAC PCM16 round trips are exact", "[audio_io]") {
    TempDir dir("audio_io_roundtrip");
    const dsp::Audio audio = pcm16_exact_audio(44100, 12345);
    for (const char* name : {"x.wav", "x.flac", "x.aiff"}) {
        INFO(name);
        dsp::save_audio(dir / name, audio);
        const dsp::Audio back = dsp::load_audio(dir / name, {.mono = false});
        REQUIRE(back.sample_rate == 44100);
        REQUIRE(back.channels == 2);
        REQUIRE(back.frames() == 12345);
        CHECK(back.samples == audio.samples);
    }
}

TEST_CASE("float WAV round trip keeps float32 values", "[audio_io]") {
    TempDir dir("audio_io_float");
    dsp::Audio audio = mono(test::sine(997, 48000, 4800, 0.9), 48000);
    audio.samples[10] = 1.5f;  // float files may exceed full scale
    dsp::save_audio(dir / "f.wav", audio, dsp::SampleFormat::float32);
    const dsp::AudioInfo info = dsp::read_audio_info(dir / "f.wav");
    CHECK(info.subtype == "FLOAT");
    CHECK(dsp::load_audio(dir / "f.wav").samples == audio.samples);
}

TEST_CASE("OGG/Vorbis and MP3 decode within a stated SNR", "[audio_io]") {
    TempDir dir("audio_io_lossy");
    // A two-tone signal at 44.1 kHz; lossy codecs must keep it at >= 20 dB SNR after delay alignment.
    std::vector<float> x = test::sine(440, 44100, 44100, 0.3);
    const std::vector<float> y = test::sine(1250, 44100, 44100, 0.2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += y[i];
    const dsp::Audio audio = mono(x, 44100);
    for (const char* name : {"x.ogg", "x.mp3"}) {
        INFO(name);
        dsp::save_audio(dir / name, audio);
        const dsp::AudioInfo info = dsp::read_audio_info(dir / name);
        CHECK(info.sample_rate == 44100);
        CHECK(info.channels == 1);
        const dsp::Audio back = dsp::load_audio(dir / name);
        REQUIRE(back.frames() >= x.size() - 2048);
        CHECK(aligned_snr_db(x, back.samples, 2400) >= 20.0);
    }
    CHECK(dsp::read_audio_info(dir / "x.ogg").subtype == "VORBIS");
    // Opus runs at 48 kHz (and a few lower rates) only.
    std::vector<float> z = test::sine(440, 48000, 48000, 0.3);
    dsp::save_audio(dir / "x.opus", mono(z, 48000));
    const dsp::AudioInfo opus = dsp::read_audio_info(dir / "x.opus");
    CHECK(opus.subtype == "OPUS");
    CHECK(opus.format == "OGG");
    CHECK(aligned_snr_db(z, dsp::load_audio(dir / "x.opus").samples, 2400) >= 20.0);
    CHECK(dsp::read_audio_info(dir / "x.mp3").format == "MP3");
    // An MP3 cut after 300 bytes (an interrupted download): libsndfile finds no frame and says "File does not
    // exist or is not a regular file"; the message must say what is wrong with the file instead.
    {
        std::ifstream in(dir / "x.mp3", std::ios::binary);
        std::vector<char> head(300);
        in.read(head.data(), 300);
        std::ofstream(dir / "cut.mp3", std::ios::binary).write(head.data(), 300);
    }
    for (const auto& call : {std::function<void()>([&] { dsp::read_audio_info(dir / "cut.mp3"); }),
                             std::function<void()>([&] { dsp::load_audio(dir / "cut.mp3"); })}) {
        try {
            call();
            FAIL("a 300-byte MP3 was accepted");
        } catch (const mtag::Error& e) {
            const std::string what = e.what();
            CHECK_THAT(what, Catch::Matchers::Contains("cut.mp3") && Catch::Matchers::Contains("no decodable audio frame"));
            CHECK_THAT(what, !Catch::Matchers::Contains("does not exist"));
        }
    }
    // Cut in half: the LAME/Xing header still claims the whole length; FrameCount::exact (what `mtag info`,
    // tag and dataset durations use) counts the frames that are there, which is what decoding yields.
    {
        const auto bytes = static_cast<std::streamsize>(std::filesystem::file_size(dir / "x.mp3"));
        std::ifstream in(dir / "x.mp3", std::ios::binary);
        std::vector<char> head(static_cast<std::size_t>(bytes / 2));
        in.read(head.data(), bytes / 2);
        std::ofstream(dir / "half.mp3", std::ios::binary).write(head.data(), bytes / 2);
    }
    const dsp::AudioInfo whole = dsp::read_audio_info(dir / "x.mp3", dsp::FrameCount::exact);
    const dsp::AudioInfo claimed = dsp::read_audio_info(dir / "half.mp3");
    const dsp::AudioInfo counted = dsp::read_audio_info(dir / "half.mp3", dsp::FrameCount::exact);
    CHECK(claimed.frames == whole.frames);
    // Within the encoder delay and one frame of what decoding yields: when the scan finds fewer frames than
    // the LAME tag claims, libmpg123 counts them without the tag's gapless trimming (18432 against 17327
    // here).
    const auto decoded = static_cast<std::int64_t>(dsp::load_audio(dir / "half.mp3").frames());
    CHECK(std::abs(counted.frames - decoded) <= 1105 + 1152);
    CHECK(counted.frames < whole.frames * 6 / 10);
    CHECK(counted.frames > whole.frames * 4 / 10);
}

TEST_CASE("mono mix-down averages the channels", "[audio_io]") {
    TempDir dir("audio_io_mono");
    const dsp::Audio audio = pcm16_exact_audio(22050, 1000);
    dsp::save_audio(dir / "s.wav", audio);
    const dsp::Audio mixed = dsp::load_audio(dir / "s.wav");
    REQUIRE(mixed.channels == 1);
    REQUIRE(mixed.frames() == 1000);
    for (std::size_t i = 0; i < 1000; ++i)
        REQUIRE(mixed.samples[i] == Approx((audio.samples[2 * i] + audio.samples[2 * i + 1]) / 2).margin(1e-7));
}

TEST_CASE("offset and duration return exactly the requested frames", "[audio_io]") {
    TempDir dir("audio_io_offset");
    const dsp::Audio audio = pcm16_exact_audio(16000, 48000);
    for (const char* name : {"o.wav", "o.flac"}) {
        INFO(name);
        dsp::save_audio(dir / name, audio);
        const dsp::Audio part =
            dsp::load_audio(dir / name, {.mono = false, .offset_seconds = 0.5, .duration_seconds = 1.25});
        REQUIRE(part.frames() == 20000);
        const auto first = audio.samples.begin() + 8000 * 2;
        CHECK(std::equal(part.samples.begin(), part.samples.end(), first));
        // A duration reaching past the end stops at the end.
        CHECK(dsp::load_audio(dir / name, {.offset_seconds = 2.5, .duration_seconds = 10}).frames() == 8000);
    }
}

TEST_CASE("each bad input gets one clear error naming the file", "[audio_io]") {
    TempDir dir("audio_io_errors");
    const auto missing = dir / "missing.wav";
    CHECK_THAT(error_of([&] { dsp::load_audio(missing); }),
               Catch::Contains("missing.wav") && Catch::Contains("does not exist"));
    CHECK_THAT(error_of([&] { dsp::read_audio_info(dir.path()); }), Catch::Contains("is a directory"));

    write_bytes(dir / "empty.wav", "");
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "empty.wav"); }),
               Catch::Contains("empty.wav") && Catch::Contains("empty (0 bytes)"));

    // A WAV cut inside its header.
    dsp::save_audio(dir / "good.wav", pcm16_exact_audio(8000, 800));
    std::ifstream in(dir / "good.wav", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_bytes(dir / "truncated.wav", bytes.substr(0, 20));
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "truncated.wav"); }),
               Catch::Contains("truncated.wav") && Catch::Contains("cannot be decoded"));

    // A WAV cut inside its audio data: libsndfile alone would read it as a shorter file.
    write_bytes(dir / "cut.wav", bytes.substr(0, bytes.size() / 2));
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "cut.wav"); }),
               Catch::Contains("cut.wav") && Catch::Contains("is truncated"));
    CHECK_THAT(error_of([&] { dsp::read_audio_info(dir / "cut.wav"); }), Catch::Contains("is truncated"));
    // A streaming writer's placeholder data size (0xFFFFFFFF) is not truncation; trailing bytes are not either.
    std::string streamed = bytes;
    const std::size_t data = streamed.find("data");
    REQUIRE(data != std::string::npos);
    streamed.replace(data + 4, 4, std::string(4, '\xff'));
    write_bytes(dir / "streamed.wav", streamed);
    CHECK(dsp::load_audio(dir / "streamed.wav").frames() == 800);
    write_bytes(dir / "trailing.wav", bytes + "junk");
    CHECK(dsp::load_audio(dir / "trailing.wav").frames() == 800);

    std::string noise(4096, '\0');
    std::mt19937 rng(1);
    for (char& c : noise) c = static_cast<char>(rng());
    write_bytes(dir / "random.wav", noise);
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "random.wav"); }),
               Catch::Contains("random.wav") && Catch::Contains("cannot be decoded"));

    write_bytes(dir / "text.flac", "this is not audio, just a text file with a misleading name\n");
    CHECK_THAT(error_of([&] { dsp::read_audio_info(dir / "text.flac"); }), Catch::Contains("text.flac"));

    dsp::save_audio(dir / "zero.wav", mono({}, 16000));
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "zero.wav"); }),
               Catch::Contains("zero.wav") && Catch::Contains("0 frames"));

    dsp::Audio bad = mono(test::sine(100, 8000, 800), 8000);
    bad.samples[123] = std::numeric_limits<float>::quiet_NaN();
    dsp::save_audio(dir / "nan.wav", bad, dsp::SampleFormat::float32);
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "nan.wav"); }),
               Catch::Contains("nan.wav") && Catch::Contains("NaN sample at frame 123"));
    bad.samples[123] = 0.0f;
    bad.samples[456] = std::numeric_limits<float>::infinity();
    dsp::save_audio(dir / "inf.wav", bad, dsp::SampleFormat::float32);
    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "inf.wav"); }), Catch::Contains("Inf sample at frame 456"));

    CHECK_THAT(error_of([&] { dsp::load_audio(dir / "good.wav", {.offset_seconds = 5.0}); }),
               Catch::Contains("good.wav") && Catch::Contains("past the end"));
    CHECK_THAT(error_of([&] { dsp::save_audio(dir / "x.xyz", bad); }), Catch::Contains("extension '.xyz'"));
}

TEST_CASE("save_audio leaves no temporary file behind", "[audio_io]") {
    TempDir dir("audio_io_tmp");
    dsp::save_audio(dir / "a.wav", mono(test::sine(440, 8000, 800), 8000));
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        ++files;
        CHECK(entry.path().filename() == "a.wav");
    }
    CHECK(files == 1);
}

TEST_CASE("load_audio resamples while decoding", "[audio_io]") {
    TempDir dir("audio_io_resample");
    dsp::save_audio(dir / "s.flac", mono(test::sine(1000, 44100, 44100), 44100));
    const dsp::Audio audio = dsp::load_audio(dir / "s.flac", {.sample_rate = 16000});
    CHECK(audio.sample_rate == 16000);
    CHECK(audio.frames() == 16000);
    CHECK(test::zero_crossing_frequency(audio.samples, 16000) == Approx(1000).margin(1.0));
}

TEST_CASE("is_audio_extension knows libsndfile's formats", "[audio_io]") {
    CHECK(dsp::is_audio_extension("a/b.WAV"));
    CHECK(dsp::is_audio_extension("x.mp3"));
    CHECK(dsp::is_audio_extension("x.flac"));
    CHECK_FALSE(dsp::is_audio_extension("x.txt"));
    CHECK_FALSE(dsp::is_audio_extension("wav"));
}
