#pragma once
// The figure of `mtag train --lr-find`: loss against learning rate on a log axis (the raw step losses pale,
// the smoothed curve over them), the suggested rate marked, as Lightning's lr_finder.plot(suggest=True) draws it.
#include "data/plot/figure.hpp"

#include <filesystem>
#include <vector>

namespace mtag::data::plot {

struct LrFindCurve {
    std::vector<double> lr, loss, smoothed;
    double suggestion = 0;  // 0 = none
};

// Draws the curve; the returned Axes map rates and losses to pixels.
Axes plot_lr_find(Figure& figure, const LrFindCurve& curve);
// Draws it into a new 720 x 440 figure saved at `path` (.png, .svg or .pdf).
void save_lr_find_plot(const LrFindCurve& curve, const std::filesystem::path& path);

}  // namespace mtag::data::plot
