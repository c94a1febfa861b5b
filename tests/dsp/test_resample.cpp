// Tests for dsp/resample and its backends (dsp/resample_soxr, dsp/resample_samplerate): frequency, level,
// phase and length are kept; tones above the new Nyquist are removed; streaming equals one-shot; names parse.
#include "dsp/error.hpp"
#include "dsp/resample.hpp"
#include "support/signals.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <thread>

using namespace mtag;

namespace {

const std::vector<dsp::ResampleQuality> all_qualities = {
    dsp::ResampleQuality::soxr_vhq,  dsp::ResampleQuality::soxr_hq,     dsp::ResampleQuality::soxr_mq,
    dsp::ResampleQuality::soxr_lq,   dsp::ResampleQuality::soxr_qq,     dsp::ResampleQuality::sinc_best,
    dsp::ResampleQuality::sinc_medium, dsp::ResampleQuality::sinc_fastest};

// Worst |y - analytic sine| over the middle half: small only when frequency, level AND phase are kept
// (the converter's delay removed).
double worst_error_vs_sine(const std::vector<float>& y, double frequency, int rate, double amplitude) {
    double worst = 0;
    for (std::size_t i = y.size() / 4; i < 3 * y.size() / 4; ++i) {
        const double expected = amplitude * std::sin(2 * std::numbers::pi * frequency * static_cast<double>(i) / rate);
        worst = std::max(worst, std::abs(y[i] - expected));
    }
    return worst;
}

}  // namespace

TEST_CASE("a 1 kHz sine resampled 44.1 kHz -> 16 kHz keeps frequency, level and length", "[resample]") {
    const std::size_t n = 44100 * 2 + 17;
    const std::vector<float> x = test::sine(1000.0, 44100, n, 0.5);
    for (auto quality : all_qualities) {
        INFO(dsp::to_string(quality));
        const std::vector<float> y = dsp::resample(x, 1, 44100, 16000, quality);
        CHECK(y.size() == static_cast<std::size_t>(std::llround(n * 16000.0 / 44100.0)));
        // Measure away from the edges, where the filter sees zeros.
        const std::span<const float> middle(y.data() + 1000, y.size() - 2000);
        CHECK(test::zero_crossing_frequency(middle, 16000) == Approx(1000.0).margin(1.0));
        const double level_db = test::to_db(test::rms(middle) / (0.5 / std::sqrt(2.0)));
        CHECK(std::abs(level_db) < 0.1);
    }
}

TEST_CASE("libsoxr's output is time-aligned with its input, like libsamplerate's", "[resample]") {
    // A 440 Hz sine sampled at 44.1 kHz must come out as the same sine sampled at 16 kHz from t = 0: a
    // delay of one output sample would be an error of 0.5 * sin(2 pi 440 / 16000) = 0.086.
    const std::vector<float> x = test::sine(440.0, 44100, 44100, 0.5);
    for (auto quality : {dsp::ResampleQuality::soxr_vhq, dsp::ResampleQuality::soxr_hq, dsp::ResampleQuality::soxr_mq,
                         dsp::ResampleQuality::sinc_medium}) {
        INFO(dsp::to_string(quality));
        CHECK(worst_error_vs_sine(dsp::resample(x, 1, 44100, 16000, quality), 440.0, 16000, 0.5) < 1e-3);
    }
}

TEST_CASE("the rational ratios of decoding give round(n * to / from) samples with every quality", "[resample]") {
    const std::vector<float> x = test::gaussian_noise(48000 + 123, 7);
    for (auto [from, to] : {std::pair{44100, 22050}, std::pair{48000, 16000}, std::pair{44100, 16000},
                            std::pair{22050, 16000}, std::pair{16000, 44100}}) {
        for (auto quality : all_qualities) {
            INFO(from << " -> " << to << " " << dsp::to_string(quality));
            const std::vector<float> y = dsp::resample(x, 1, from, to, quality);
            CHECK(y.size() == static_cast<std::size_t>(std::llround(static_cast<double>(x.size()) * to / from)));
        }
    }
}

TEST_CASE("a tone above the new Nyquist frequency is removed, not folded back", "[resample]") {
    // 10 kHz at 44.1 kHz -> 16 kHz (Nyquist 8 kHz) would alias to 6 kHz.
    const std::vector<float> x = test::sine(10000.0, 44100, 44100, 0.5);
    for (auto [quality, limit_db] : {std::pair{dsp::ResampleQuality::soxr_vhq, -140.0},
                                     std::pair{dsp::ResampleQuality::soxr_hq, -110.0},
                                     std::pair{dsp::ResampleQuality::soxr_mq, -90.0},
                                     std::pair{dsp::ResampleQuality::sinc_medium, -100.0}}) {
        INFO(dsp::to_string(quality));
        const std::vector<float> y = dsp::resample(x, 1, 44100, 16000, quality);
        const std::span<const float> middle(y.data() + 2000, y.size() - 4000);
        CHECK(test::to_db(test::rms(middle) / (0.5 / std::sqrt(2.0))) < limit_db);
    }
}

TEST_CASE("upsampling keeps frequency and level", "[resample]") {
    const std::vector<float> x = test::sine(440.0, 8000, 8000, 0.25);
    for (auto quality : {dsp::default_resample_quality, dsp::ResampleQuality::sinc_medium}) {
        INFO(dsp::to_string(quality));
        const std::vector<float> y = dsp::resample(x, 1, 8000, 48000, quality);
        CHECK(y.size() == 48000);
        const std::span<const float> middle(y.data() + 2000, y.size() - 4000);
        CHECK(test::zero_crossing_frequency(middle, 48000) == Approx(440.0).margin(0.5));
        CHECK(std::abs(test::to_db(test::rms(middle) / (0.25 / std::sqrt(2.0)))) < 0.1);
    }
}

TEST_CASE("streaming in blocks gives the one-shot result with both backends", "[resample]") {
    const std::vector<float> x = test::gaussian_noise(100000, 3);
    for (auto quality : {dsp::ResampleQuality::soxr_hq, dsp::ResampleQuality::soxr_lq, dsp::ResampleQuality::sinc_medium}) {
        for (std::size_t block : {std::size_t{1}, std::size_t{441}, std::size_t{7919}, std::size_t{65536}}) {
            INFO(dsp::to_string(quality) << ", blocks of " << block);
            const std::vector<float> whole = dsp::resample(x, 1, 44100, 16000, quality);
            dsp::StreamingResampler streaming(1, 44100, 16000, quality);
            std::vector<float> blocks;
            for (std::size_t start = 0; start < x.size(); start += block) {
                const std::size_t n = std::min(block, x.size() - start);
                streaming.process(std::span<const float>(x.data() + start, n), blocks);
            }
            streaming.finish(blocks);
            REQUIRE(blocks.size() == whole.size());
            // libsoxr's FFT-based stages see the same samples in the same order whatever the blocks, so the
            // stream is the one-shot result exactly; libsamplerate's too.
            std::size_t differ = 0;
            for (std::size_t i = 0; i < whole.size(); ++i) differ += blocks[i] != whole[i];
            CHECK(differ == 0);
        }
    }
}

TEST_CASE("libsoxr results are deterministic and the same on concurrent threads", "[resample]") {
    const std::vector<float> x = test::gaussian_noise(44100 * 3, 11);
    const std::vector<float> serial = dsp::resample(x, 1, 44100, 16000, dsp::ResampleQuality::soxr_hq);
    CHECK(dsp::resample(x, 1, 44100, 16000, dsp::ResampleQuality::soxr_hq) == serial);
    std::vector<float> a, b;
    std::thread ta([&] { a = dsp::resample(x, 1, 44100, 16000, dsp::ResampleQuality::soxr_hq); });
    std::thread tb([&] { b = dsp::resample(x, 1, 44100, 16000, dsp::ResampleQuality::soxr_hq); });
    ta.join();
    tb.join();
    CHECK(a == serial);
    CHECK(b == serial);
}

TEST_CASE("stereo is resampled per channel", "[resample]") {
    const std::vector<float> left = test::sine(500.0, 32000, 32000, 0.5);
    const std::vector<float> right = test::sine(1500.0, 32000, 32000, 0.5);
    std::vector<float> interleaved(64000);
    for (std::size_t i = 0; i < 32000; ++i) {
        interleaved[2 * i] = left[i];
        interleaved[2 * i + 1] = right[i];
    }
    for (auto quality : {dsp::ResampleQuality::soxr_hq, dsp::ResampleQuality::sinc_medium}) {
        INFO(dsp::to_string(quality));
        const std::vector<float> y = dsp::resample(interleaved, 2, 32000, 16000, quality);
        REQUIRE(y.size() == 32000);
        std::vector<float> l(16000), r(16000);
        for (std::size_t i = 0; i < 16000; ++i) {
            l[i] = y[2 * i];
            r[i] = y[2 * i + 1];
        }
        CHECK(test::zero_crossing_frequency(std::span<const float>(l).subspan(500, 15000), 16000) ==
              Approx(500).margin(0.5));
        CHECK(test::zero_crossing_frequency(std::span<const float>(r).subspan(500, 15000), 16000) ==
              Approx(1500).margin(0.5));
    }
}

TEST_CASE("resample quality names: librosa's res_type names, the old aliases, a clear error", "[resample]") {
    for (auto quality : all_qualities) CHECK(dsp::parse_resample_quality(dsp::to_string(quality)) == quality);
    CHECK(dsp::parse_resample_quality("soxr_hq") == dsp::ResampleQuality::soxr_hq);
    CHECK(dsp::backend_of(dsp::ResampleQuality::soxr_qq) == dsp::ResampleBackend::soxr);
    CHECK(dsp::backend_of(dsp::ResampleQuality::sinc_fastest) == dsp::ResampleBackend::libsamplerate);
    CHECK(dsp::parse_resample_quality("best") == dsp::ResampleQuality::sinc_best);
    CHECK(dsp::parse_resample_quality("medium") == dsp::ResampleQuality::sinc_medium);
    CHECK(dsp::parse_resample_quality("fastest") == dsp::ResampleQuality::sinc_fastest);
    CHECK(dsp::to_string(dsp::parse_resample_quality("medium")) == "sinc_medium");
    CHECK_THROWS_WITH(dsp::parse_resample_quality("great"),
                      Catch::Contains("'great'") && Catch::Contains("soxr_hq") && Catch::Contains("sinc_fastest"));
}

TEST_CASE("bad resampler settings are rejected with a message", "[resample]") {
    CHECK_THROWS_WITH(dsp::StreamingResampler(0, 44100, 16000), Catch::Contains("channel"));
    CHECK_THROWS_WITH(dsp::StreamingResampler(1, 0, 16000), Catch::Contains("positive"));
    CHECK_THROWS_WITH(dsp::StreamingResampler(1, 1000, 1000000),
                      Catch::Contains("1000 Hz to 1000000 Hz") && Catch::Contains("ratio"));
    CHECK_THROWS_WITH(dsp::StreamingResampler(1, 1000, 1000000, dsp::ResampleQuality::sinc_medium),
                      Catch::Contains("ratio"));
}
