// Tests data/report/file_taggram (and data/plot/taggram_plot through it): the taggram of a file made of
// two synthetic halves, a low tone then a high tone, read back from the PNG, shows "low" brighter than
// "high" before the midpoint and the reverse after it, switching at the midpoint.
#include "data/report/file_taggram.hpp"
#include "support/png_image.hpp"
#include "support/temp_dir.hpp"
#include "tiny_run.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mtag;
using namespace mtag::data;

namespace {

// The colour-map value in [0, 1] whose colour is nearest to the pixel (the plot's inverse).
double value_of(const test::Pixel& p, plot::ColorMap map) {
    double best = 0, best_distance = 1e9;
    for (int i = 0; i <= 255; ++i) {
        const plot::Rgb c = plot::color_at(map, i / 255.0);
        const double d = p.distance(int(c.r * 255 + 0.5), int(c.g * 255 + 0.5), int(c.b * 255 + 0.5));
        if (d < best_distance) best_distance = d, best = i / 255.0;
    }
    return best;
}

}  // namespace

TEST_CASE("file taggram: two synthetic halves switch tags at the midpoint", "[plot][report]") {
    test::TempDir dir("report_taggram");
    const auto run = test::train_tiny_tone_run(dir.path());
    // 4 s of the low tone, then 4 s of the high tone.
    std::vector<float> samples = test::tiny_tone(250, 4.0, 0.25f);
    const std::vector<float> high = test::tiny_tone(2500, 4.0, 0.25f);
    samples.insert(samples.end(), high.begin(), high.end());
    dsp::save_audio(dir / "halves.wav", dsp::Audio{samples, test::k_tiny_rate, 1});

    const Tagger tagger(run);
    plot::TaggramOptions options;
    const plot::TaggramPlot plot = report::plot_file_taggram(tagger, dir / "halves.wav", options);
    REQUIRE(plot.order.size() == 2);
    plot.figure.save(dir / "taggram.png");
    const test::PngImage image(dir / "taggram.png");

    // The image row of each tag, and per time column which of the two is brighter.
    const auto tag_row = [&](const std::string& tag) {
        const auto it = std::find_if(plot.order.begin(), plot.order.end(), [&](std::size_t t) { return tagger.card().tags[t] == tag; });
        return static_cast<int>(std::lround(plot.axes.y_pixel(plot.row_y(static_cast<std::size_t>(it - plot.order.begin())))));
    };
    const int low_row = tag_row("low"), high_row = tag_row("high");
    REQUIRE(low_row != high_row);
    const double chunk = static_cast<double>(tagger.card().input_length * tagger.card().hop_samples()) / test::k_tiny_rate;
    const double covered = plot.axes.x.max;  // whole chunks only: the tail shorter than a chunk is dropped
    REQUIRE(covered > 7.0);
    int low_wins = 0, high_wins = 0, columns = 0;
    double switch_at = -1;
    bool previous_low = true;
    for (double t = chunk / 2; t < covered; t += chunk) {
        const int x = static_cast<int>(std::lround(plot.axes.x_pixel(t)));
        const double low = value_of(image.at(x, low_row), options.cmap), hi = value_of(image.at(x, high_row), options.cmap);
        const bool low_wins_here = low > hi;
        if (t + chunk / 2 <= 4.0) low_wins += low_wins_here;     // chunks wholly in the first half
        if (t - chunk / 2 >= 4.0) high_wins += !low_wins_here;   // chunks wholly in the second half
        if (previous_low && !low_wins_here && switch_at < 0) switch_at = t;
        previous_low = low_wins_here;
        ++columns;
    }
    const int first_half = static_cast<int>(4.0 / chunk), second_half = static_cast<int>((covered - 4.0) / chunk);
    INFO("chunk " << chunk << " s, low wins " << low_wins << "/" << first_half << ", high wins " << high_wins << "/"
                  << second_half << ", switch at " << switch_at << " s");
    CHECK(low_wins == first_half);
    CHECK(high_wins == second_half);
    CHECK(std::abs(switch_at - 4.0) <= chunk);  // the first column after the switch is the one at the midpoint
    CHECK(columns == static_cast<int>(std::lround(covered / chunk)));
}
