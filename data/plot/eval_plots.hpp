#pragma once
// The plots of an evaluation (scikit-learn's ConfusionMatrixDisplay, RocCurveDisplay,
// PrecisionRecallDisplay, and a bar chart of per-tag ROC-AUC).
#include "data/plot/eval_result.hpp"
#include "data/plot/figure.hpp"

namespace mtag::data::plot {

struct EvalPlotOptions {
    ColorMap cmap = ColorMap::viridis;
    double width = 0, height = 0;  // 0: a size that suits the content
    std::size_t curves_per_end = 3;  // roc: the top and bottom N tags by ROC-AUC
    std::string title;
};

// Rows are true labels, columns predictions; cells coloured by the row-normalised rate, labelled with
// counts. `which` picks a confusion by name (empty: the first). Throws mtag::Error when the eval result
// has none (a multi-label run without --group) or the name is unknown.
Figure plot_confusion(const EvalResult& eval, const std::string& which = "", const EvalPlotOptions& options = {});

// ROC (left) and precision-recall (right) curves of the best and worst tags by ROC-AUC, with their AUCs.
// Throws mtag::Error when the eval result holds no curves.
Figure plot_roc(const EvalResult& eval, const EvalPlotOptions& options = {});

// Horizontal bars of per-tag ROC-AUC, sorted, with the macro average marked.
Figure plot_tag_scores(const EvalResult& eval, const EvalPlotOptions& options = {});

}  // namespace mtag::data::plot
