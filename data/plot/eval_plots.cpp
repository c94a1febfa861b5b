#include "data/plot/eval_plots.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace mtag::data::plot {

namespace {

std::string fixed(double v, int digits = 3) {
    if (!std::isfinite(v)) return "n/a";
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

}  // namespace

Figure plot_confusion(const EvalResult& eval, const std::string& which, const EvalPlotOptions& options) {
    if (eval.confusions.empty())
        throw Error("plot confusion", "the eval result has no confusion matrix (a single-label run has one; for "
                                      "multi-label tags run mtag eval with --group NAME=tag1,tag2,...)");
    const Confusion* c = &eval.confusions.front();
    if (!which.empty()) {
        auto it = std::find_if(eval.confusions.begin(), eval.confusions.end(), [&](const Confusion& x) { return x.name == which; });
        if (it == eval.confusions.end()) throw UsageError("--group '" + which + "': the eval result has no such confusion");
        c = &*it;
    }
    const std::size_t k = c->labels.size();
    std::size_t longest = 0;
    for (const auto& l : c->labels) longest = std::max(longest, l.size());
    const double cell = std::clamp(560.0 / static_cast<double>(k), 14.0, 60.0);
    const double left = 40 + 6.5 * static_cast<double>(longest);
    const double bottom = 50 + 6.0 * static_cast<double>(longest);
    const double width = options.width > 0 ? options.width : left + cell * static_cast<double>(k) + 110;
    const double height = options.height > 0 ? options.height : 40 + cell * static_cast<double>(k) + bottom;
    Figure figure(width, height);
    Axes axes;
    axes.rect = {left, 36, cell * static_cast<double>(k), cell * static_cast<double>(k)};
    axes.x = {-0.5, static_cast<double>(k) - 0.5, Scale::linear, "", {}};
    axes.y = {-0.5, static_cast<double>(k) - 0.5, Scale::linear, "", {}};
    std::vector<float> rates(k * k, 0.0f);
    for (std::size_t r = 0; r < k; ++r) {
        const double total = std::accumulate(c->matrix[r].begin(), c->matrix[r].end(), 0.0);
        for (std::size_t p = 0; p < k; ++p)
            rates[(k - 1 - r) * k + p] = total > 0 ? static_cast<float>(c->matrix[r][p] / total) : 0.0f;  // row 0 on top
    }
    draw_image(figure, axes, rates, k, k, -0.5, static_cast<double>(k) - 0.5, -0.5, static_cast<double>(k) - 0.5,
               options.cmap, 0, 1);
    for (std::size_t i = 0; i < k; ++i) {
        axes.y.ticks.push_back({static_cast<double>(k - 1 - i), c->labels[i]});
    }
    draw_axes(figure, axes);
    for (std::size_t i = 0; i < k; ++i)
        draw_text(figure, axes.x_pixel(static_cast<double>(i)), axes.rect.y + axes.rect.height + 8, c->labels[i], 10, 1,
                  {0, 0, 0}, false, -60);
    if (cell >= 22)
        for (std::size_t r = 0; r < k; ++r)
            for (std::size_t p = 0; p < k; ++p) {
                const double rate = rates[(k - 1 - r) * k + p];
                draw_text(figure, axes.x_pixel(static_cast<double>(p)), axes.y_pixel(static_cast<double>(k - 1 - r)),
                          std::to_string(c->matrix[r][p]), std::min(12.0, cell / 3), 0.5,
                          rate > 0.6 ? Rgb{0, 0, 0} : Rgb{1, 1, 1});
            }
    draw_text(figure, axes.rect.x + axes.rect.width / 2, height - 12, "Predicted", 11, 0.5);
    draw_text(figure, 14, axes.rect.y + axes.rect.height / 2, "True", 11, 0.5, {0, 0, 0}, false, -90);
    draw_colorbar(figure, {axes.rect.x + axes.rect.width + 18, axes.rect.y + 14, 14, axes.rect.height - 14}, options.cmap,
                  0, 1, "rate");
    const std::string title = !options.title.empty() ? options.title
                              : c->name == "confusion" ? "Confusion matrix"
                                                       : "Confusion (" + c->name + ")";
    draw_text(figure, axes.rect.x + axes.rect.width / 2, 16, title, 13, 0.5, {0, 0, 0}, true);
    return figure;
}

Figure plot_roc(const EvalResult& eval, const EvalPlotOptions& options) {
    if (eval.curves.empty())
        throw Error("plot roc", "the eval result holds no curves (write it with this version of mtag eval)");
    // The tags with curves, best ROC-AUC first; the top and bottom N of them.
    std::vector<std::pair<double, const TagCurves*>> ranked;
    for (const TagCurves& c : eval.curves) {
        auto it = std::find_if(eval.per_tag.begin(), eval.per_tag.end(), [&](const TagScore& s) { return s.tag == c.tag; });
        if (it != eval.per_tag.end() && std::isfinite(it->roc_auc) && !c.fpr.empty()) ranked.push_back({it->roc_auc, &c});
    }
    if (ranked.empty()) throw Error("plot roc", "no tag has both classes in the evaluated split");
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::size_t> shown;
    const std::size_t n = options.curves_per_end;
    for (std::size_t i = 0; i < ranked.size(); ++i)
        if (i < n || i + n >= ranked.size()) shown.push_back(i);
    const double width = options.width > 0 ? options.width : 980, height = options.height > 0 ? options.height : 470;
    Figure figure(width, height);
    const double panel = std::min((width - 170) / 2, height - 90);
    Axes roc, pr;
    roc.rect = {70, 36, panel, panel};
    pr.rect = {roc.rect.x + panel + 80, 36, panel, panel};
    roc.x = {0, 1, Scale::linear, "False positive rate", nice_ticks(0, 1, 5)};
    roc.y = {0, 1, Scale::linear, "True positive rate", nice_ticks(0, 1, 5)};
    pr.x = {0, 1, Scale::linear, "Recall", nice_ticks(0, 1, 5)};
    pr.y = {0, 1.02, Scale::linear, "Precision", nice_ticks(0, 1, 5)};
    const std::vector<double> diagonal = {0, 1};
    draw_line(figure, roc, diagonal, diagonal, {0.6, 0.6, 0.6}, 1, 4);
    std::vector<std::pair<std::string, Rgb>> roc_legend, pr_legend;
    for (std::size_t s = 0; s < shown.size(); ++s) {
        const TagCurves& c = *ranked[shown[s]].second;
        const Rgb color = series_color(s);
        auto it = std::find_if(eval.per_tag.begin(), eval.per_tag.end(), [&](const TagScore& t) { return t.tag == c.tag; });
        draw_line(figure, roc, c.fpr, c.tpr, color, 1.6);
        draw_line(figure, pr, c.recall, c.precision, color, 1.6);
        roc_legend.push_back({c.tag + " (AUC " + fixed(it->roc_auc) + ")", color});
        pr_legend.push_back({c.tag + " (AP " + fixed(it->pr_auc) + ")", color});
    }
    draw_axes(figure, roc);
    draw_axes(figure, pr);
    // Legends at the bottom right of each panel, where ROC and PR curves leave room.
    Axes roc_legend_box = roc, pr_legend_box = pr;
    roc_legend_box.rect.y += roc.rect.height - 15.0 * static_cast<double>(shown.size()) - 18;
    pr_legend_box.rect.y += pr.rect.height - 15.0 * static_cast<double>(shown.size()) - 18;
    draw_legend(figure, roc_legend_box, roc_legend);
    draw_legend(figure, pr_legend_box, pr_legend);
    draw_text(figure, roc.rect.x + roc.rect.width / 2, 16, "ROC (best and worst tags)", 12, 0.5, {0, 0, 0}, true);
    draw_text(figure, pr.rect.x + pr.rect.width / 2, 16, "Precision-recall", 12, 0.5, {0, 0, 0}, true);
    return figure;
}

Figure plot_tag_scores(const EvalResult& eval, const EvalPlotOptions& options) {
    std::vector<const TagScore*> tags;
    for (const TagScore& t : eval.per_tag)
        if (std::isfinite(t.roc_auc)) tags.push_back(&t);
    if (tags.empty()) throw Error("plot tags", "no tag has a ROC-AUC (each tag needs both classes in the split)");
    std::stable_sort(tags.begin(), tags.end(), [](const TagScore* a, const TagScore* b) { return a->roc_auc > b->roc_auc; });
    std::size_t longest = 0;
    for (const TagScore* t : tags) longest = std::max(longest, t->tag.size());
    const double row = 18, left = 30 + 6.5 * static_cast<double>(longest);
    const double width = options.width > 0 ? options.width : 760;
    const double height = options.height > 0 ? options.height : 90 + row * static_cast<double>(tags.size());
    Figure figure(width, height);
    Axes axes;
    axes.rect = {left, 36, width - left - 60, height - 86};
    const double lo = std::min(0.5, std::floor(tags.back()->roc_auc * 10) / 10);
    axes.x = {lo, 1, Scale::linear, "ROC-AUC", nice_ticks(lo, 1, 6)};
    const auto n = static_cast<double>(tags.size());
    axes.y = {-0.5, n - 0.5, Scale::linear, "", {}};
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const double y = n - 1 - static_cast<double>(i);
        draw_box(figure, axes, lo, tags[i]->roc_auc, y - 0.35, y + 0.35, series_color(0));
        axes.y.ticks.push_back({y, tags[i]->tag});
        draw_text(figure, axes.x_pixel(tags[i]->roc_auc) + 4, axes.y_pixel(y), fixed(tags[i]->roc_auc), 9);
    }
    if (std::isfinite(eval.roc_auc_macro)) {
        draw_vline(figure, axes, eval.roc_auc_macro, {0.839, 0.153, 0.157}, 1.5, 5);
        draw_text(figure, axes.x_pixel(eval.roc_auc_macro) - 4, axes.rect.y - 8, "macro " + fixed(eval.roc_auc_macro), 10, 1,
                  {0.839, 0.153, 0.157});
    }
    draw_axes(figure, axes);
    draw_text(figure, left, 16, options.title.empty() ? "Per-tag ROC-AUC (" + eval.split + " split)" : options.title, 13, 0,
              {0, 0, 0}, true);
    return figure;
}

}  // namespace mtag::data::plot
