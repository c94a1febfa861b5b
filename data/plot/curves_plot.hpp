#pragma once
// Training curves (TensorBoard's scalars, on one page): per epoch the training and validation loss, the
// validation metrics and the learning rate, the best epoch of each run marked by a dashed vertical line.
// Several runs are overlaid in distinct colours.
#include "data/plot/figure.hpp"
#include "data/plot/training_log.hpp"

#include <vector>

namespace mtag::data::plot {

struct CurvesOptions {
    double width = 900, height = 760;
    std::string title;
};

struct CurvesPlot {
    Figure figure;
    std::vector<Axes> panels;          // loss, metrics, learning rate (x: 1-based epochs)
    std::vector<double> best_x;        // per run: the figure x of its best-epoch marker (NaN when none)
};

// The colour of the best-epoch marker of a single run (runs overlaid use their own colours).
Rgb best_marker_color();

// Throws mtag::Error when `runs` is empty.
CurvesPlot plot_curves(const std::vector<TrainingLog>& runs, const CurvesOptions& options = {});

}  // namespace mtag::data::plot
