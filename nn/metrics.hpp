#pragma once
// Evaluation metrics for tagging (multi-label) and classification (single-label) as plain functions
// over score and label matrices. Independent of the network: scores may be logits or probabilities
// (every metric here depends only on the order of scores, except where noted).
// ref: sklearn.metrics (roc_auc_score, average_precision_score, top_k_accuracy_score, confusion_matrix)
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mtag::nn {

// A read-only row-major matrix [clips, tags] (or [clips, classes]); does not own its values.
struct ConstMatrixView {
    std::span<const float> values;
    std::size_t rows = 0;  // clips
    std::size_t cols = 0;  // tags or classes
    float at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

// Checks values.size() == rows * cols and that both views have the same shape (throws mtag::Error).
void check_same_shape(const ConstMatrixView& scores, const ConstMatrixView& labels,
                      const std::string& context);

// ---- binary / multi-label ------------------------------------------------------------------------
// Labels are 0/1 floats; a label >= 0.5 counts as positive.

// Area under the ROC curve, trapezoid over distinct thresholds, so tied scores count half
// (= Mann-Whitney U / (P*N)). NaN when the labels hold only one class. ref: sklearn roc_auc_score.
double roc_auc(std::span<const float> scores, std::span<const float> labels);

// Non-interpolated average precision: sum over distinct thresholds of (R_k - R_{k-1}) * P_k.
// NaN when there are no positives. ref: sklearn average_precision_score.
double average_precision(std::span<const float> scores, std::span<const float> labels);

// The ROC and precision-recall curves of one tag, one point per distinct threshold (descending), starting
// at (fpr 0, tpr 0) and (recall 0, precision 1). Empty when the labels hold only one class.
// ref: sklearn roc_curve(drop_intermediate=False) and precision_recall_curve.
struct BinaryCurves {
    std::vector<double> fpr, tpr;           // ROC
    std::vector<double> recall, precision;  // PR
};
BinaryCurves binary_curves(std::span<const float> scores, std::span<const float> labels);

// Per-tag and summary figures for a tagging split.
struct TaggingMetrics {
    std::vector<double> roc_auc;            // per tag; NaN for tags lacking a class
    std::vector<double> average_precision;  // per tag; NaN for tags lacking a class
    double macro_roc_auc = 0;               // mean over tags that have both classes
    double macro_average_precision = 0;     // mean over the same tags
    double micro_roc_auc = 0;               // ROC-AUC over all (clip, tag) pairs pooled
    std::vector<std::size_t> skipped_tags;  // tags without both positives and negatives (not in the means)
};

// All of the above for scores and labels of shape [clips, tags].
TaggingMetrics tagging_metrics(const ConstMatrixView& scores, const ConstMatrixView& labels);

// Mean over clips of (positives among the k highest-scored tags) / k. Ties between scores are broken
// towards the lower tag index. Clips count even when they have no positive tags.
double precision_at_k(const ConstMatrixView& scores, const ConstMatrixView& labels, std::size_t k);

// ---- single-label classification -----------------------------------------------------------------
// Scores are [clips, classes]; targets are class indices in [0, classes).

// Fraction of clips whose argmax (first maximum on ties, like numpy) equals the target.
double accuracy(const ConstMatrixView& scores, std::span<const std::int32_t> targets);

// Fraction of clips whose target is among the k best-scored classes; ties ranked like
// sklearn top_k_accuracy_score (reverse stable argsort: a higher class index ranks first among equals).
double top_k_accuracy(const ConstMatrixView& scores, std::span<const std::int32_t> targets, std::size_t k);

// Confusion matrix [classes, classes], row = true class, column = predicted class (argmax), like sklearn.
std::vector<std::int64_t> confusion_matrix(const ConstMatrixView& scores,
                                           std::span<const std::int32_t> targets);

// Per-class precision, recall and F1 (0 where undefined, sklearn's zero_division default) and support.
struct ClassReport {
    std::vector<double> precision, recall, f1;
    std::vector<std::int64_t> support;
    double macro_f1 = 0;
};

// Precision/recall/F1 per class from a confusion matrix as returned by confusion_matrix().
ClassReport class_report(std::span<const std::int64_t> confusion, std::size_t classes);

}  // namespace mtag::nn
