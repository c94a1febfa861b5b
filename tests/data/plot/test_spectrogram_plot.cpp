// Tests data/plot/spectrogram_plot: the picture shows the signal where the axes say it is. A 1 kHz tone's
// brightest row, read back from the PNG, sits at the pixel row of 1 kHz on the feature's own axis (mel,
// log-frequency CQT, linear STFT).
#include "data/plot/spectrogram_plot.hpp"
#include "dsp/feature_extractor.hpp"
#include "dsp/mel.hpp"
#include "support/png_image.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

using namespace mtag;
using namespace mtag::data::plot;

namespace {

std::vector<float> tone(double hz, int sample_rate, double seconds) {
    std::vector<float> x(static_cast<std::size_t>(seconds * sample_rate));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * static_cast<float>(std::sin(2 * std::numbers::pi * hz * i / sample_rate));
    return x;
}

}  // namespace

TEST_CASE("spectrogram plot: a 1 kHz tone is brightest at the pixel row of 1 kHz", "[plot]") {
    test::TempDir dir("plot_spectrogram");
    for (const char* kind : {"logmel", "mel", "stft", "cqt"}) {
        DYNAMIC_SECTION(kind) {
            const dsp::FeatureConfig config = dsp::FeatureConfig::defaults_for(dsp::parse_feature_kind(kind)).resolved();
            dsp::FeatureExtractor extractor(config);
            dsp::FloatMatrix feature;
            extractor.compute(tone(1000.0, config.sample_rate, 2.0), feature);
            const SpectrogramPlot plot = plot_spectrogram(feature, extractor.config());
            const auto png = dir / (std::string(kind) + ".png");
            plot.figure.save(png);
            const test::PngImage image(png);
            REQUIRE(image.width() == static_cast<int>(plot.figure.width()));
            const Rect& r = plot.axes.rect;
            // The middle half of the time axis (away from the padded edges).
            const int x0 = static_cast<int>(r.x + r.width * 0.25), x1 = static_cast<int>(r.x + r.width * 0.75);
            const int row = image.brightest_row(x0, x1, static_cast<int>(r.y) + 1, static_cast<int>(r.y + r.height) - 1);
            const double expected = plot.axes.y_pixel(frequency_axis_value(extractor.config(), 1000.0));
            // One frequency bin's height on this axis: the tone may light the two bins around 1 kHz.
            double bin_pixels = r.height / static_cast<double>(feature.rows);
            if (config.kind == dsp::FeatureKind::stft) bin_pixels = std::max(bin_pixels, 2.0);
            INFO(kind << ": brightest row " << row << ", 1 kHz at " << expected << ", a bin is " << bin_pixels << " px");
            CHECK(std::abs(row - expected) <= bin_pixels + 1.0);
            // And the picture is not uniform: the row of 1 kHz is much brighter than the top of the axes.
            CHECK(image.at((x0 + x1) / 2, row).sum() > image.at((x0 + x1) / 2, static_cast<int>(r.y) + 3).sum() + 200);
        }
    }
}

TEST_CASE("spectrogram plot: the mel axis puts 1 kHz where librosa's mel scale does", "[plot]") {
    dsp::FeatureConfig config = dsp::FeatureConfig::defaults_for(dsp::FeatureKind::logmel).resolved();
    dsp::FloatMatrix feature(config.n_mels, 10, 0.0f);
    const SpectrogramPlot plot = plot_spectrogram(feature, config);
    // Slaney's scale is linear below 1 kHz: 1000 Hz is mel 15, half of 0..30 is 500 Hz.
    CHECK(frequency_axis_value(config, 1000.0) == Approx(15.0));
    CHECK(plot.axes.y_pixel(dsp::hz_to_mel(500.0)) > plot.axes.y_pixel(dsp::hz_to_mel(1000.0)));
    CHECK(note_name(440.0) == "A4");
    CHECK(note_name(32.703) == "C1");
    CHECK(note_name(261.63) == "C4");
}

TEST_CASE("figure: save picks the format by extension and leaves nothing partial on failure", "[plot]") {
    test::TempDir dir("plot_figure");
    Figure figure(200, 100);
    for (const char* name : {"a.png", "a.svg", "a.pdf", "A.PNG"}) {
        figure.save(dir / name);
        CHECK(std::filesystem::file_size(dir / name) > 100);
    }
    CHECK_THROWS_WITH(figure.save(dir / "a.jpg"), Catch::Contains("use .png, .svg or .pdf"));
    CHECK_THROWS_WITH(figure.save(dir / "missing" / "a.png"), Catch::Contains("does not exist"));
    CHECK_FALSE(std::filesystem::exists(dir / "a.jpg"));
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 4);  // no temporary left behind
    CHECK_THAT(figure.svg(), Catch::StartsWith("<svg"));
}

TEST_CASE("colour maps: the published end points and a monotonic lightness", "[plot]") {
    CHECK(color_at(ColorMap::magma, 0).r == Approx(0.001462));
    CHECK(color_at(ColorMap::magma, 1).b == Approx(0.749504));
    CHECK(color_at(ColorMap::viridis, 0).g == Approx(0.004874));
    CHECK(color_at(ColorMap::viridis, 1).r == Approx(0.993248));
    CHECK(color_at(ColorMap::viridis, 0.5).g == Approx(0.5 * (0.555484 + 0.565498) + 0.0 ).margin(0.05));
    for (ColorMap map : {ColorMap::magma, ColorMap::viridis}) {
        double previous = -1;
        for (int i = 0; i <= 20; ++i) {
            const Rgb c = color_at(map, i / 20.0);
            const double lightness = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
            CHECK(lightness > previous);
            previous = lightness;
        }
    }
    CHECK_THROWS_WITH(parse_color_map("jet"), Catch::Contains("magma or viridis"));
}
