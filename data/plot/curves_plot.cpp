#include "data/plot/curves_plot.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace mtag::data::plot {

namespace {

// Keys of log.jsonl that are not validation metrics.
bool is_metric(const std::string& key) {
    return key != "train_loss" && key != "val_loss" && key != "clips_per_second" && key != "skipped_clips";
}

struct Range {
    double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    bool empty() const { return !(hi >= lo); }
};

Axis value_axis(Range r, const std::string& label, bool log) {
    if (r.empty()) r = {0, 1};
    if (log) {
        if (!(r.lo > 0)) r.lo = r.hi > 0 ? r.hi / 10 : 1e-4;
        if (r.hi <= r.lo) r.hi = r.lo * 10, r.lo /= 10;
        const double lo = r.lo / 1.5, hi = r.hi * 1.5;
        return {lo, hi, Scale::log, label, log_ticks(lo, hi)};
    }
    if (r.hi <= r.lo) r.hi = r.lo + 1, r.lo -= 1;
    const double pad = 0.06 * (r.hi - r.lo);
    return {r.lo - pad, r.hi + pad, Scale::linear, label, nice_ticks(r.lo - pad, r.hi + pad, 5)};
}

}  // namespace

Rgb best_marker_color() { return {0.839, 0.153, 0.157}; }

CurvesPlot plot_curves(const std::vector<TrainingLog>& runs, const CurvesOptions& options) {
    if (runs.empty()) throw Error("plot curves", "no run given");
    int last_epoch = 1;
    bool steps = false;
    Range loss, metric, lr;
    std::set<std::string> metric_names;
    for (const TrainingLog& run : runs) {
        for (const LogStep& s : run.steps) loss.add(s.loss), steps = true;
        for (const LogEpoch& e : run.epochs) {
            last_epoch = std::max(last_epoch, e.epoch);
            lr.add(e.lr);
            for (const auto& [k, v] : e.metrics) {
                if (k == "train_loss" || k == "val_loss") loss.add(v);
                else if (is_metric(k)) metric.add(v), metric_names.insert(k);
            }
        }
    }
    const double top = options.title.empty() ? 16 : 34;
    const double gap = 56, left = 80, right = 30;
    const double panel_height = (options.height - top - 3 * gap + 10) / 3;
    const Axis epochs{steps ? 0.0 : 0.5, last_epoch + 0.5, Scale::linear, "Epoch",
                      nice_ticks(1, last_epoch, std::min(last_epoch, 10))};
    CurvesPlot plot{Figure(options.width, options.height), {}, {}};
    for (int p = 0; p < 3; ++p) {
        Axes a;
        a.rect = {left, top + p * (panel_height + gap), options.width - left - right, panel_height};
        a.x = epochs;
        if (p == 0) a.y = value_axis(loss, "Loss", false);
        if (p == 1) a.y = value_axis(metric, "Validation metric", false);
        if (p == 2) a.y = value_axis(lr, "Learning rate", true);
        plot.panels.push_back(a);
    }
    std::vector<std::pair<std::string, Rgb>> loss_legend, metric_legend;
    const bool several = runs.size() > 1;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        const TrainingLog& run = runs[r];
        std::vector<double> x;
        for (const LogEpoch& e : run.epochs) x.push_back(e.epoch);
        const std::string prefix = several ? run.name + " " : "";
        // Loss: training solid, validation dashed; one colour per run (two when a single run is shown).
        const Rgb train_color = series_color(several ? r : 0), val_color = series_color(several ? r : 1);
        if (!run.steps.empty()) {
            // Per step: the raw losses pale, TensorBoard's smoothing over them.
            std::vector<double> sx, sy;
            for (const LogStep& s : run.steps) sx.push_back(s.position), sy.push_back(s.loss);
            const Rgb pale{0.6 + 0.4 * train_color.r, 0.6 + 0.4 * train_color.g, 0.6 + 0.4 * train_color.b};
            draw_line(plot.figure, plot.panels[0], sx, sy, pale, 0.8);
            draw_line(plot.figure, plot.panels[0], sx, smooth(sy), train_color, 1.0);
            loss_legend.push_back({prefix + "loss per step (smoothed)", pale});
        }
        if (run.has("train_loss")) {
            draw_line(plot.figure, plot.panels[0], x, run.series("train_loss"), train_color, 1.8);
            loss_legend.push_back({prefix + "train_loss", train_color});
        }
        if (run.has("val_loss")) {
            draw_line(plot.figure, plot.panels[0], x, run.series("val_loss"), val_color, 1.8, several ? 5 : 0);
            loss_legend.push_back({prefix + "val_loss", val_color});
        }
        std::size_t m = 0;
        for (const std::string& name : metric_names) {
            if (!run.has(name)) continue;
            const Rgb color = series_color(several ? r : (m == 0 ? 2 : 3 + m));  // red is the best-epoch marker
            draw_line(plot.figure, plot.panels[1], x, run.series(name), color, 1.8, several && m > 0 ? 4 : 0);
            metric_legend.push_back({prefix + name, color});
            ++m;
        }
        std::vector<double> rates;
        for (const LogEpoch& e : run.epochs) rates.push_back(e.lr > 0 ? e.lr : NAN);
        draw_line(plot.figure, plot.panels[2], x, rates, series_color(several ? r : 0), 1.8);
        if (run.best_epoch > 0) {
            const Rgb marker = several ? series_color(r) : best_marker_color();
            for (const Axes& a : plot.panels) draw_vline(plot.figure, a, run.best_epoch, marker, 1.5, 6);
            plot.best_x.push_back(plot.panels[0].x_pixel(run.best_epoch));
            const Axes& a = plot.panels[0];
            // The label on the side of the line with room for it.
            const double bx = a.x_pixel(run.best_epoch);
            const bool right = bx < a.rect.x + 0.7 * a.rect.width;
            draw_text(plot.figure, bx + (right ? 4 : -4), a.rect.y + a.rect.height - 12 - 14.0 * static_cast<double>(r),
                      prefix + "best epoch " + std::to_string(run.best_epoch), 10, right ? 0 : 1, marker);
        } else {
            plot.best_x.push_back(NAN);
        }
    }
    const char* titles[] = {"Loss per epoch", "Validation metrics", "Learning rate (end of epoch)"};
    for (int p = 0; p < 3; ++p) {
        draw_axes(plot.figure, plot.panels[p]);
        draw_text(plot.figure, left, plot.panels[p].rect.y - 8, titles[p], 11, 0, {0.2, 0.2, 0.2}, true);
    }
    draw_legend(plot.figure, plot.panels[0], loss_legend);
    draw_legend(plot.figure, plot.panels[1], metric_legend);
    if (!options.title.empty()) draw_text(plot.figure, options.width / 2, 14, options.title, 13, 0.5, {0, 0, 0}, true);
    return plot;
}

}  // namespace mtag::data::plot
