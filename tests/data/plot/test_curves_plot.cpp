// Tests data/plot/curves_plot and training_log: the best-epoch marker is drawn at the epoch the log names
// (checked on the PNG's pixels), and bad logs are clear errors.
#include "data/plot/curves_plot.hpp"
#include "dsp/error.hpp"
#include "support/png_image.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace mtag;
using namespace mtag::data::plot;

namespace {

// Six epochs as nn::TrainingState writes them (0-based "epoch"); the best is 0-based epoch 2, i.e. the
// third epoch, after which the validation loss rises while the training loss falls.
const char* k_log =
    R"({"epoch":0,"step":10,"lr":0.001,"train_loss":0.9,"val_loss":0.8,"roc_auc_macro":0.6,"best":0.6,"best_epoch":0,"bad_epochs":0,"optimizer":"adam","events":["improved"]}
{"epoch":1,"step":20,"lr":0.001,"train_loss":0.7,"val_loss":0.6,"roc_auc_macro":0.7,"best":0.7,"best_epoch":1,"bad_epochs":0,"optimizer":"adam","events":["improved"]}
{"event":"skipped_clips","epoch":1,"split":"train","clips":[]}
{"epoch":2,"step":30,"lr":0.001,"train_loss":0.5,"val_loss":0.5,"roc_auc_macro":0.8,"best":0.8,"best_epoch":2,"bad_epochs":0,"optimizer":"adam","events":["improved"]}
{"epoch":3,"step":40,"lr":0.0005,"train_loss":0.4,"val_loss":0.55,"roc_auc_macro":0.78,"best":0.8,"best_epoch":2,"bad_epochs":1,"optimizer":"adam","events":[]}
{"epoch":4,"step":50,"lr":0.0005,"train_loss":0.3,"val_loss":0.62,"roc_auc_macro":0.77,"best":0.8,"best_epoch":2,"bad_epochs":2,"optimizer":"adam","events":[]}
{"epoch":5,"step":60,"lr":0.00025,"train_loss":0.2,"val_loss":0.7,"roc_auc_macro":0.76,"best":0.8,"best_epoch":2,"bad_epochs":3,"optimizer":"adam","events":["stop"]}
)";

// Pixels of the column x inside the panel that have the marker's colour.
int marker_pixels(const test::PngImage& image, const Axes& panel, int x) {
    const Rgb c = best_marker_color();
    int n = 0;
    for (int y = static_cast<int>(panel.rect.y) + 2; y < static_cast<int>(panel.rect.y + panel.rect.height) - 2; ++y)
        n += image.at(x, y).distance(int(c.r * 255 + 0.5), int(c.g * 255 + 0.5), int(c.b * 255 + 0.5)) < 40;
    return n;
}

}  // namespace

TEST_CASE("curves plot: the best-epoch marker is where the log says", "[plot]") {
    test::TempDir dir("plot_curves");
    std::filesystem::create_directories(dir / "run");
    std::ofstream(dir / "run" / "log.jsonl") << k_log;
    const TrainingLog log = read_training_log(dir / "run");
    REQUIRE(log.epochs.size() == 6);  // the skipped_clips event is not an epoch
    CHECK(log.best_epoch == 3);
    CHECK(log.epochs[0].epoch == 1);
    CHECK(log.series("val_loss")[4] == Approx(0.62));
    CHECK(log.name == "run");

    const CurvesPlot plot = plot_curves({log});
    REQUIRE(plot.panels.size() == 3);
    REQUIRE(plot.best_x.size() == 1);
    plot.figure.save(dir / "curves.png");
    const test::PngImage image(dir / "curves.png");
    const int best = static_cast<int>(std::lround(plot.panels[0].x_pixel(3)));
    CHECK(std::abs(plot.best_x[0] - plot.panels[0].x_pixel(3)) < 1e-9);
    for (const Axes& panel : plot.panels) {
        // A dashed line (6 on, 6 off): about half of the column has the marker's colour...
        int at_best = 0;
        for (int dx = -1; dx <= 1; ++dx) at_best = std::max(at_best, marker_pixels(image, panel, best + dx));
        CHECK(at_best > 0.3 * panel.rect.height);
        // ...and no other epoch's column does.
        for (int epoch : {1, 2, 4, 5, 6}) {
            const int x = static_cast<int>(std::lround(panel.x_pixel(epoch)));
            CHECK(marker_pixels(image, panel, x) < 0.05 * panel.rect.height);
        }
    }
}

TEST_CASE("curves plot: several runs are overlaid, each with its own best epoch", "[plot]") {
    test::TempDir dir("plot_curves_two");
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    std::ofstream(dir / "a" / "log.jsonl") << k_log;
    std::ofstream(dir / "b" / "log.jsonl")
        << R"({"epoch":0,"step":5,"lr":0.01,"train_loss":1.0,"val_loss":0.9,"accuracy":0.5,"best":0.5,"best_epoch":0,"bad_epochs":0,"optimizer":"sgd","events":["improved"]})"
        << "\n";
    const CurvesPlot plot = plot_curves({read_training_log(dir / "a"), read_training_log(dir / "b")});
    REQUIRE(plot.best_x.size() == 2);
    CHECK(plot.best_x[1] < plot.best_x[0]);
}

TEST_CASE("training log: a missing run, a log without epochs and a broken line are clear errors", "[plot]") {
    test::TempDir dir("plot_log_errors");
    CHECK_THROWS_WITH(read_training_log(dir / "missing"), Catch::Contains("does not exist"));
    std::filesystem::create_directories(dir / "empty");
    CHECK_THROWS_WITH(read_training_log(dir / "empty"), Catch::Contains("cannot be read"));
    std::ofstream(dir / "empty" / "log.jsonl") << "\n";
    CHECK_THROWS_WITH(read_training_log(dir / "empty"), Catch::Contains("has no epoch"));
    std::ofstream(dir / "empty" / "log.jsonl") << "{\"epoch\": 0}\n{broken\n";
    CHECK_THROWS_WITH(read_training_log(dir / "empty"), Catch::Contains("line 2 is not a JSON object"));
    CHECK_THROWS_AS(plot_curves({}), mtag::Error);
}

TEST_CASE("curves plot: per-step losses from steps.jsonl, smoothed as TensorBoard does", "[plot]") {
    test::TempDir dir("plot_curves_steps");
    std::filesystem::create_directories(dir / "run");
    std::ofstream(dir / "run" / "log.jsonl") << k_log;
    std::ofstream steps(dir / "run" / "steps.jsonl");
    for (int e = 0; e < 6; ++e)
        for (int b = 0; b < 4; ++b) steps << "{\"epoch\":" << e << ",\"batch\":" << b << ",\"batches\":4,\"loss\":" << 1.0 - 0.03 * (4 * e + b) << "}\n";
    steps << "{\"epoch\":6,\"bat";  // a run killed mid-line: the reading stops there
    steps.close();
    const TrainingLog log = read_training_log(dir / "run");
    REQUIRE(log.steps.size() == 24);
    CHECK(log.steps[3].position == Approx(1.0));   // the last step of the first epoch sits on epoch 1
    CHECK(log.steps[23].position == Approx(6.0));
    const std::vector<double> s = smooth({1.0, 0.0, 0.0});
    CHECK(s[0] == Approx(1.0));                    // debiased: the first value is kept
    CHECK(s[1] == Approx(0.6 * 0.4 / (0.4 + 0.24)));
    const CurvesPlot plot = plot_curves({log});
    CHECK(plot.panels[0].x.min == Approx(0.0));    // the axis starts at 0 for the first steps
}
