#include "data/plot/lr_find_plot.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mtag::data::plot {

Axes plot_lr_find(Figure& figure, const LrFindCurve& curve) {
    if (curve.lr.empty()) throw Error("lr finder plot", "no step was recorded");
    Axes a;
    a.rect = {80, 40, figure.width() - 110, figure.height() - 100};
    const auto [lo_lr, hi_lr] = std::minmax_element(curve.lr.begin(), curve.lr.end());
    a.x = {*lo_lr, std::max(*hi_lr, *lo_lr * 10), Scale::log, "Learning rate", {}};
    a.x.ticks = log_ticks(a.x.min, a.x.max);
    // The y range follows the smoothed curve (the raw losses may spike far above it at the end).
    double lo = INFINITY, hi = -INFINITY;
    for (double v : curve.smoothed)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    if (!(hi > lo)) hi = lo + 1;
    const double pad = 0.08 * (hi - lo);
    a.y = {lo - pad, hi + pad, Scale::linear, "Loss", nice_ticks(lo - pad, hi + pad)};
    std::vector<double> clipped = curve.loss;
    for (double& v : clipped) v = std::clamp(v, a.y.min, a.y.max);
    draw_line(figure, a, curve.lr, clipped, {0.75, 0.82, 0.92}, 0.8);
    draw_line(figure, a, curve.lr, curve.smoothed, series_color(0), 1.8);
    std::vector<std::pair<std::string, Rgb>> legend{{"loss per step", {0.75, 0.82, 0.92}}, {"smoothed", series_color(0)}};
    if (curve.suggestion > 0) {
        draw_vline(figure, a, curve.suggestion, series_color(3), 1.5, 6);
        char text[64];
        std::snprintf(text, sizeof text, "suggested lr %.3g", curve.suggestion);
        draw_text(figure, a.x_pixel(curve.suggestion) + 4, a.rect.y + 12, text, 10, 0, series_color(3));
        legend.push_back({"suggestion (steepest descent)", series_color(3)});
    }
    draw_axes(figure, a);
    draw_legend(figure, a, legend);
    draw_text(figure, a.rect.x, 22, "Learning-rate range test", 12, 0, {0.2, 0.2, 0.2}, true);
    return a;
}

void save_lr_find_plot(const LrFindCurve& curve, const std::filesystem::path& path) {
    Figure figure(720, 440);
    plot_lr_find(figure, curve);
    figure.save(path);
}

}  // namespace mtag::data::plot
