// Tests dsp/feature_extractor: streaming in blocks gives the whole-signal result, each kind agrees with
// the dsp routines it wraps, and files are streamed like load_audio.
#include "dsp/audio_io.hpp"
#include "dsp/cqt.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/log_compression.hpp"
#include "dsp/mel.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <random>

using namespace mtag::dsp;

namespace {

std::vector<float> test_signal(std::size_t n, int sample_rate, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sample_rate;
        x[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 440.0 * t) +
                                  0.2 * std::sin(2 * std::numbers::pi * 97.0 * t * (1 + t))) + noise(rng);
    }
    return x;
}

// Streams x in blocks of pseudo-random sizes (1 sample up to `largest`).
FloatMatrix streamed(FeatureExtractor& extractor, const std::vector<float>& x, std::size_t largest, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, largest);
    extractor.begin();
    std::size_t at = 0;
    while (at < x.size()) {
        const std::size_t n = std::min(size(rng), x.size() - at);
        extractor.push(std::span<const float>(x.data() + at, n));
        at += n;
    }
    FloatMatrix out;
    extractor.finish(out);
    return out;
}

float max_abs_difference(const FloatMatrix& a, const FloatMatrix& b) {
    REQUIRE(a.rows == b.rows);
    REQUIRE(a.cols == b.cols);
    float worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data[i] - b.data[i]));
    return worst;
}

}  // namespace

TEST_CASE("feature extractor: logmel equals MelSpectrogram + power_to_db, streamed or not") {
    for (const char* pad : {"constant", "reflect"}) {
        for (bool center : {true, false}) {
            FeatureConfig config;  // 16 kHz, 512, 256, 96 mels, dB
            config.pad_mode = pad;
            config.center = center;
            FeatureExtractor extractor(config);
            const std::vector<float> x = test_signal(16000 * 3 + 123, 16000, 7);

            FloatMatrix whole;
            extractor.compute(x, whole);
            CHECK(whole.rows == 96);
            CHECK(static_cast<std::int64_t>(whole.cols) == config.frames_for(static_cast<std::int64_t>(x.size())));

            MelSpectrogram mel(StftOptions{.n_fft = 512, .hop_length = 256, .center = center,
                                           .pad_mode = parse_pad_mode(pad)},
                               MelOptions{.sample_rate = 16000, .n_mels = 96});
            FloatMatrix expected;
            mel.compute(x, expected);
            power_to_db(expected, 1.0f, 1e-10f, 80.0f);
            CHECK(max_abs_difference(whole, expected) == 0.0f);

            // Blocks smaller and larger than a frame, and blocks of many chunks.
            CHECK(max_abs_difference(streamed(extractor, x, 300, 1), whole) == 0.0f);
            CHECK(max_abs_difference(streamed(extractor, x, 40000, 2), whole) == 0.0f);
        }
    }
}

TEST_CASE("feature extractor: streaming holds a bounded number of samples") {
    FeatureExtractor extractor(FeatureConfig{});
    extractor.begin();
    const std::vector<float> block(65536, 0.1f);
    std::size_t largest = 0;
    for (int i = 0; i < 50; ++i) {  // 3.3 M samples, 205 s at 16 kHz
        extractor.push(block);
        largest = std::max(largest, extractor.buffered_samples());
    }
    CHECK(largest < 4 * block.size());
    FloatMatrix out;
    extractor.finish(out);
    CHECK(out.cols == 1 + 50 * 65536 / 256);
}

TEST_CASE("feature extractor: stft, mel, log1p and mfcc shapes and values") {
    const std::vector<float> x = test_signal(8000, 16000, 3);
    FeatureConfig stft = FeatureConfig::defaults_for(FeatureKind::stft);
    stft.power = 1.0;
    FloatMatrix s;
    FeatureExtractor(stft).compute(x, s);
    CHECK(s.rows == 257);
    CHECK(s.cols == 1 + 8000 / 256);
    Stft plan(StftOptions{.n_fft = 512, .hop_length = 256});
    FloatMatrix magnitude;
    plan.magnitude(x, magnitude);
    CHECK(max_abs_difference(s, magnitude) < 1e-5f);

    FeatureConfig mel = FeatureConfig::defaults_for(FeatureKind::mel);
    mel.log = LogCompression::log1p;
    FloatMatrix m;
    FeatureExtractor(mel).compute(x, m);
    MelSpectrogram reference(StftOptions{.n_fft = 512, .hop_length = 256}, MelOptions{.sample_rate = 16000, .n_mels = 96});
    FloatMatrix expected;
    reference.compute(x, expected);
    log1p_compress(expected, 10000.0f);
    CHECK(max_abs_difference(m, expected) == 0.0f);

    FeatureConfig mfcc = FeatureConfig::defaults_for(FeatureKind::mfcc);
    mfcc.n_mfcc = 13;
    FloatMatrix c;
    FeatureExtractor(mfcc).compute(x, c);
    CHECK(c.rows == 13);
    CHECK(c.cols == 1 + 8000 / 256);
}

TEST_CASE("feature extractor: streamed CQT matches the whole-signal CQT") {
    FeatureConfig config = FeatureConfig::defaults_for(FeatureKind::cqt);  // 22.05 kHz, hop 512, 84 bins
    FeatureExtractor extractor(config);
    // Long enough for several 2048-frame segments.
    const std::vector<float> x = test_signal(512 * 5000 + 77, 22050, 11);
    Cqt cqt(CqtOptions{});
    FloatMatrix whole;
    cqt.compute(x, whole);
    const FloatMatrix blocks = streamed(extractor, x, 100000, 5);
    REQUIRE(blocks.cols == whole.cols);
    float peak = 0;
    for (float v : whole.data) peak = std::max(peak, v);
    // Segments start on multiples of every decimation step, so the result is the same up to rounding.
    CHECK(max_abs_difference(blocks, whole) <= 1e-6f * peak);
}

TEST_CASE("feature extractor: compute_file streams a file like load_audio") {
    const std::filesystem::path dir = std::filesystem::path(MTAG_TEST_TMP) / "extractor";
    std::filesystem::create_directories(dir);
    Audio audio;
    audio.sample_rate = 16000;
    audio.channels = 2;
    const std::vector<float> mono = test_signal(16000 * 2, 16000, 9);
    for (float v : mono) {
        audio.samples.push_back(v);
        audio.samples.push_back(v * 0.5f);
    }
    save_audio(dir / "stereo.wav", audio, SampleFormat::float32);
    FeatureExtractor extractor(FeatureConfig{});
    FloatMatrix from_file, from_memory;
    extractor.compute_file(dir / "stereo.wav", from_file);
    extractor.compute(load_audio(dir / "stereo.wav").samples, from_memory);
    CHECK(max_abs_difference(from_file, from_memory) < 1e-4f);

    // With resampling (44.1 kHz file) the frame count follows the resampled length.
    audio.sample_rate = 44100;
    save_audio(dir / "stereo44.wav", audio, SampleFormat::float32);
    extractor.compute_file(dir / "stereo44.wav", from_file);
    const std::int64_t samples = std::llround(mono.size() * 16000.0 / 44100.0);
    CHECK(static_cast<std::int64_t>(from_file.cols) == 1 + samples / 256);

    CHECK_THROWS_WITH(extractor.compute_file(dir / "missing.wav", from_file), Catch::Contains("missing.wav"));
}
