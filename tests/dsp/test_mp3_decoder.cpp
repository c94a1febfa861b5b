// Tests dsp/mp3_decoder (and the MP3 paths of load_audio and AudioStream): libsndfile's sample positions
// (bit-identical stereo, float-rounding mono mix), frame-accurate seeking, and the error of the reduced-rate
// `fast` mode against the full-rate decode on a music-like signal, in samples and in log-mel dB.
#include "dsp/audio_io.hpp"
#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/fractional_delay.hpp"
#include "dsp/mp3_decoder.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

using namespace mtag;
using mtag::test::TempDir;
namespace fs = std::filesystem;

namespace {

// 8 s of 44.1 kHz stereo that looks like music to an encoder: decaying harmonic notes up to 16 kHz (a different
// melody per channel), a noise hi-hat, so every subband carries signal and the channels differ.
dsp::Audio music_like(std::uint64_t seed, double seconds = 8.0) {
    const int rate = 44100;
    const auto frames = static_cast<std::size_t>(seconds * rate);
    dsp::Audio audio;
    audio.sample_rate = rate;
    audio.channels = 2;
    audio.samples.assign(frames * 2, 0.0f);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> pitch(40, 80);
    std::normal_distribution<double> noise(0.0, 1.0);
    const std::size_t note = rate / 4;
    for (int c = 0; c < 2; ++c) {
        for (std::size_t start = 0; start < frames; start += note) {
            const double f0 = 440.0 * std::pow(2.0, (pitch(rng) - 69) / 12.0);
            for (std::size_t i = 0; i < note && start + i < frames; ++i) {
                const double t = static_cast<double>(i) / rate;
                double v = 0.0;
                for (int h = 1; h * f0 < 16000.0; ++h)
                    v += std::sin(2 * std::numbers::pi * h * f0 * t) / (h * 1.5);
                v *= 0.2 * std::exp(-6.0 * t);
                if (c == 1 && i < 2000) v += 0.05 * noise(rng) * std::exp(-static_cast<double>(i) / 300.0);
                audio.samples[(start + i) * 2 + c] = static_cast<float>(v);
            }
        }
    }
    return audio;
}

// libsndfile's decode of the whole file (its MP3 path: libmpg123 at full rate, float, gapless).
dsp::Audio sndfile_decode(const fs::path& path, std::int64_t offset = 0) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    REQUIRE(file != nullptr);
    if (offset > 0) REQUIRE(sf_seek(file, offset, SEEK_SET) == offset);
    dsp::Audio audio;
    audio.sample_rate = info.samplerate;
    audio.channels = info.channels;
    audio.samples.resize(static_cast<std::size_t>(info.frames) * info.channels);
    const sf_count_t got = sf_readf_float(file, audio.samples.data(), info.frames);
    audio.samples.resize(static_cast<std::size_t>(got) * info.channels);
    sf_close(file);
    return audio;
}

struct Difference {
    double max_abs = 0.0;
    double snr_db = 0.0;
};

Difference difference(std::span<const float> reference, std::span<const float> x) {
    REQUIRE(reference.size() == x.size());
    double signal = 0.0, noise = 0.0, max_abs = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = static_cast<double>(x[i]) - reference[i];
        signal += static_cast<double>(reference[i]) * reference[i];
        noise += e * e;
        max_abs = std::max(max_abs, std::abs(e));
    }
    return {max_abs, 10.0 * std::log10(signal / std::max(noise, 1e-300))};
}

fs::path encoded(TempDir& dir, const std::string& name, std::uint64_t seed) {
    dsp::save_audio(dir / name, music_like(seed));  // libsndfile + LAME, with the LAME/Info tag
    return dir / name;
}

}  // namespace

TEST_CASE("mp3_decoder: full-rate stereo is libsndfile's decode bit for bit, and the mono mix its average",
          "[mp3_decoder]") {
    TempDir dir("mp3_decoder_exact");
    const fs::path path = encoded(dir, "song.mp3", 1);
    const dsp::Audio reference = sndfile_decode(path);
    REQUIRE(reference.channels == 2);

    dsp::Mp3Decoder stereo(path, false);
    CHECK(stereo.sample_rate() == 44100);
    CHECK(stereo.channels() == 2);
    CHECK(stereo.length() == static_cast<std::int64_t>(reference.frames()));
    std::vector<float> all, block(2 * 3000);
    for (std::size_t got; (got = stereo.read(block)) > 0;) all.insert(all.end(), block.begin(), block.begin() + got * 2);
    CHECK(all == reference.samples);  // the same library, the same flags: gapless positions and values

    // load_audio's MP3 path mixes inside the decoder: equal to decode-then-average up to float rounding.
    const dsp::Audio mixed = dsp::load_audio(path);
    const std::vector<float> average = dsp::to_mono(reference.samples, 2);
    const Difference d = difference(average, mixed.samples);
    INFO("mono mix: max abs " << d.max_abs << ", SNR " << d.snr_db << " dB");
    CHECK(d.max_abs < 1e-5);
    CHECK(d.snr_db > 110.0);
    // Not mixed: load_audio(mono = false) is libsndfile's decode exactly.
    CHECK(dsp::load_audio(path, {.mono = false}).samples == reference.samples);
}

TEST_CASE("mp3_decoder: offset and duration seek frame-accurately, as libsndfile does", "[mp3_decoder]") {
    TempDir dir("mp3_decoder_seek");
    const fs::path path = encoded(dir, "song.mp3", 2);
    const dsp::Audio whole = dsp::load_audio(path, {.mono = false});
    for (const double offset : {0.5, 1.2345, 3.0}) {
        INFO("offset " << offset);
        const auto first = static_cast<std::int64_t>(std::llround(offset * 44100));
        const dsp::Audio part = dsp::load_audio(path, {.mono = false, .offset_seconds = offset, .duration_seconds = 1.5});
        REQUIRE(part.frames() == static_cast<std::size_t>(std::llround(1.5 * 44100)));
        // libsndfile's seek (libmpg123's, in the same decoder) lands on the same samples.
        const dsp::Audio seeked = sndfile_decode(path, first);
        CHECK(std::equal(part.samples.begin(), part.samples.end(), seeked.samples.begin()));
        // And they are the whole decode's samples at that position (libmpg123 decodes enough frames before the
        // seek point that the bit reservoir and the overlap are rebuilt).
        const Difference d = difference(std::span<const float>(whole.samples).subspan(first * 2, part.samples.size()),
                                        part.samples);
        INFO("seek vs whole: max abs " << d.max_abs);
        CHECK(d.max_abs < 1e-5);
    }
}

TEST_CASE("mp3_decoder: the reduced-rate choice keeps the target band one subband below the reduced Nyquist",
          "[mp3_decoder]") {
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::fast, 44100, 16000) == 1);
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::fast, 44100, 8000) == 2);
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::fast, 48000, 16000) == 1);
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::fast, 44100, 22050) == 0);
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::fast, 44100, 0) == 0);
    CHECK(dsp::mp3_down_sample(dsp::Mp3Decode::full, 44100, 8000) == 0);
    CHECK(dsp::parse_mp3_decode("fast") == dsp::Mp3Decode::fast);
    CHECK(dsp::to_string(dsp::parse_mp3_decode("full")) == "full");
    CHECK_THROWS_WITH(dsp::parse_mp3_decode("quick"), Catch::Contains("use full") && Catch::Contains("fast"));
}

TEST_CASE("mp3_decoder: the fractional advance is flat with the exact phase below its cutoff", "[mp3_decoder]") {
    for (const double advance : {0.5, 0.25, 0.75}) {
        const dsp::FractionalDelay delay(advance, 0.37);
        double magnitude = 0.0, phase = 0.0;
        for (double f = 0.0; f <= 0.37; f += 0.001) {
            magnitude = std::max(magnitude, delay.magnitude_error(f));
            phase = std::max(phase, delay.phase_error(f));
        }
        INFO("advance " << advance << ": magnitude error " << magnitude << ", phase error " << phase);
        CHECK(magnitude < 2e-5);
        CHECK(phase < 2e-5);
    }
    // Streaming: a sine comes out advanced, with as many samples as went in.
    dsp::FractionalDelay delay(0.5, 0.37);
    std::vector<float> x(5000), y;
    for (std::size_t n = 0; n < x.size(); ++n) x[n] = static_cast<float>(std::sin(0.3 * static_cast<double>(n)));
    for (std::size_t at = 0; at < x.size(); at += 777)
        delay.process(std::span<const float>(x).subspan(at, std::min<std::size_t>(777, x.size() - at)), y);
    delay.finish(y);
    REQUIRE(y.size() == x.size());
    for (std::size_t n = 100; n < 4900; ++n) REQUIRE(y[n] == Approx(std::sin(0.3 * (n + 0.5))).margin(1e-4));
}

TEST_CASE("mp3_decoder: fast (half-rate synthesis) against full-rate decode + soxr_hq, in samples and log-mel dB",
          "[mp3_decoder]") {
    TempDir dir("mp3_decoder_fast");
    const fs::path path = encoded(dir, "song.mp3", 3);
    const dsp::LoadOptions full{.sample_rate = 16000, .mp3_decode = dsp::Mp3Decode::full};
    dsp::LoadOptions fast = full;
    fast.mp3_decode = dsp::Mp3Decode::fast;
    const dsp::Audio a = dsp::load_audio(path, full);
    const dsp::Audio b = dsp::load_audio(path, fast);
    REQUIRE(a.samples.size() == b.samples.size());  // the full-rate length, whatever the reduced grid
    const Difference d = difference(a.samples, b.samples);

    dsp::FeatureExtractor extractor(dsp::FeatureConfig{});  // log-mel, 16 kHz, 128 bands, dB
    dsp::FloatMatrix ma, mb;
    extractor.compute(a.samples, ma);
    extractor.compute(b.samples, mb);
    REQUIRE(ma.rows == mb.rows);
    REQUIRE(ma.cols == mb.cols);
    float peak = -1e30f;
    for (float v : ma.data) peak = std::max(peak, v);
    double max_db = 0.0;
    std::vector<float> db_differences;
    for (std::size_t i = 0; i < ma.data.size(); ++i) {
        if (ma.data[i] <= peak - 60.0f) continue;
        const float e = std::abs(ma.data[i] - mb.data[i]);
        max_db = std::max(max_db, static_cast<double>(e));
        db_differences.push_back(e);
    }
    std::nth_element(db_differences.begin(), db_differences.begin() + db_differences.size() / 2, db_differences.end());
    const double median_db = db_differences[db_differences.size() / 2];
    // Measured on this signal (harmonics to 16 kHz, harsher than music): SNR 68 dB, log-mel at most 1.03 dB, the
    // median far below 0.01 dB. The half-rate synthesis is not exact below 8 kHz, which is why `full` is the
    // default (README: the quality table of scripts/mp3_decode_quality.py on the bench library's songs).
    INFO("fast vs full at 16 kHz: max abs " << d.max_abs << ", SNR " << d.snr_db << " dB, log-mel max " << max_db
                                            << " dB, median " << median_db << " dB (bins within 60 dB of the peak)");
    CHECK(d.snr_db > 60.0);
    CHECK(max_db < 1.5);
    CHECK(median_db < 0.01);

    // With an offset on the reduced grid the fast path seeks there; an odd offset falls back to full rate.
    const dsp::LoadOptions fast_even{.sample_rate = 16000, .offset_seconds = 2.0, .duration_seconds = 3.0,
                                     .mp3_decode = dsp::Mp3Decode::fast};
    dsp::LoadOptions full_even = fast_even;
    full_even.mp3_decode = dsp::Mp3Decode::full;
    const dsp::Audio ae = dsp::load_audio(path, full_even), be = dsp::load_audio(path, fast_even);
    REQUIRE(ae.samples.size() == be.samples.size());
    CHECK(difference(ae.samples, be.samples).snr_db > 60.0);
    dsp::LoadOptions odd = fast_even;
    odd.offset_seconds = 1.0 / 44100.0 * 88201;
    dsp::LoadOptions odd_full = odd;
    odd_full.mp3_decode = dsp::Mp3Decode::full;
    CHECK(dsp::load_audio(path, odd).samples == dsp::load_audio(path, odd_full).samples);

    // The streaming decoder (mtag extract, mtag tag) gives load_audio's samples in both modes.
    for (const auto mode : {dsp::Mp3Decode::full, dsp::Mp3Decode::fast}) {
        dsp::AudioStream stream(path, 16000, dsp::default_resample_quality, mode);
        std::vector<float> streamed;
        while (stream.read(streamed, 10000)) {}
        const dsp::Audio& loaded = mode == dsp::Mp3Decode::full ? a : b;
        REQUIRE(streamed.size() == loaded.samples.size());
        CHECK(difference(loaded.samples, streamed).max_abs < 1e-6);
    }
}
