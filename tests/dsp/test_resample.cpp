// Tests for dsp/resample: frequency, level and length are kept; streaming equals one-shot.
#include "dsp/error.hpp"
#include "dsp/resample.hpp"
#include "support/signals.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace mtag;

TEST_CASE("a 1 kHz sine resampled 44.1 kHz -> 16 kHz keeps frequency, level and length", "[resample]") {
    const std::size_t n = 44100 * 2 + 17;
    const std::vector<float> x = test::sine(1000.0, 44100, n, 0.5);
    for (auto quality : {dsp::ResampleQuality::fastest, dsp::ResampleQuality::medium, dsp::ResampleQuality::best}) {
        INFO(dsp::to_string(quality));
        const std::vector<float> y = dsp::resample(x, 1, 44100, 16000, quality);
        const auto expected = static_cast<long>(std::llround(n * 16000.0 / 44100.0));
        CHECK(std::labs(static_cast<long>(y.size()) - expected) <= 1);
        // Measure away from the edges, where the filter sees zeros.
        const std::span<const float> middle(y.data() + 1000, y.size() - 2000);
        CHECK(test::zero_crossing_frequency(middle, 16000) == Approx(1000.0).margin(1.0));
        const double level_db = test::to_db(test::rms(middle) / (0.5 / std::sqrt(2.0)));
        CHECK(std::abs(level_db) < 0.1);
    }
}

TEST_CASE("upsampling keeps frequency and level", "[resample]") {
    const std::vector<float> x = test::sine(440.0, 8000, 8000, 0.25);
    const std::vector<float> y = dsp::resample(x, 1, 8000, 48000);
    CHECK(y.size() == 48000);
    const std::span<const float> middle(y.data() + 2000, y.size() - 4000);
    CHECK(test::zero_crossing_frequency(middle, 48000) == Approx(440.0).margin(0.5));
    CHECK(std::abs(test::to_db(test::rms(middle) / (0.25 / std::sqrt(2.0)))) < 0.1);
}

TEST_CASE("streaming in blocks gives the one-shot result", "[resample]") {
    const std::vector<float> x = test::sine(300.0, 44100, 100000, 0.5);
    const std::vector<float> whole = dsp::resample(x, 1, 44100, 22050);
    dsp::StreamingResampler streaming(1, 44100, 22050);
    std::vector<float> blocks;
    for (std::size_t start = 0; start < x.size(); start += 7919) {
        const std::size_t n = std::min<std::size_t>(7919, x.size() - start);
        streaming.process(std::span<const float>(x.data() + start, n), blocks);
    }
    streaming.finish(blocks);
    REQUIRE(blocks.size() == whole.size());
    for (std::size_t i = 0; i < whole.size(); ++i) REQUIRE(blocks[i] == Approx(whole[i]).margin(1e-5));
}

TEST_CASE("stereo is resampled per channel", "[resample]") {
    const std::vector<float> left = test::sine(500.0, 32000, 32000, 0.5);
    const std::vector<float> right = test::sine(1500.0, 32000, 32000, 0.5);
    std::vector<float> interleaved(64000);
    for (std::size_t i = 0; i < 32000; ++i) {
        interleaved[2 * i] = left[i];
        interleaved[2 * i + 1] = right[i];
    }
    const std::vector<float> y = dsp::resample(interleaved, 2, 32000, 16000);
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

TEST_CASE("bad resampler settings are rejected with a message", "[resample]") {
    CHECK_THROWS_WITH(dsp::StreamingResampler(0, 44100, 16000), Catch::Contains("channel"));
    CHECK_THROWS_WITH(dsp::StreamingResampler(1, 0, 16000), Catch::Contains("positive"));
    CHECK_THROWS_WITH(dsp::StreamingResampler(1, 1000, 1000000), Catch::Contains("ratio"));
    CHECK_THROWS_WITH(dsp::parse_resample_quality("great"), Catch::Contains("best, medium or fastest"));
    CHECK(dsp::parse_resample_quality("best") == dsp::ResampleQuality::best);
}
