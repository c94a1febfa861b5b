// Metrics over score/label matrices; see metrics.hpp for the conventions.
#include "nn/metrics.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

namespace mtag::nn {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_positive(float label) {
    return label >= 0.5f;
}

// (score, positive) pairs sorted by descending score, NaN scores last (a strict weak order even then); the
// order inside a tie does not matter because both curves below only look at the ends of tie groups.
std::vector<std::pair<float, bool>> sorted_pairs(std::span<const float> scores,
                                                 std::span<const float> labels) {
    std::vector<std::pair<float, bool>> pairs(scores.size());
    for (std::size_t i = 0; i < scores.size(); ++i) pairs[i] = {scores[i], is_positive(labels[i])};
    std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
        return std::isnan(b.first) ? !std::isnan(a.first) : a.first > b.first;
    });
    return pairs;
}

void check_spans(std::span<const float> scores, std::span<const float> labels, const char* what) {
    if (scores.size() != labels.size())
        throw Error(what, "got " + std::to_string(scores.size()) + " scores but " +
                              std::to_string(labels.size()) + " labels; expected equal sizes");
}

std::vector<float> column(const ConstMatrixView& m, std::size_t c) {
    std::vector<float> out(m.rows);
    for (std::size_t r = 0; r < m.rows; ++r) out[r] = m.at(r, c);
    return out;
}

void check_view(const ConstMatrixView& m, const std::string& context) {
    if (m.values.size() != m.rows * m.cols)
        throw Error(context, "matrix holds " + std::to_string(m.values.size()) +
                                 " values, expected rows*cols = " + std::to_string(m.rows * m.cols));
}

void check_targets(const ConstMatrixView& scores, std::span<const std::int32_t> targets,
                   const std::string& context) {
    check_view(scores, context);
    if (targets.size() != scores.rows)
        throw Error(context, "got " + std::to_string(targets.size()) + " targets for " +
                                 std::to_string(scores.rows) + " clips; expected one per clip");
    for (std::int32_t t : targets)
        if (t < 0 || static_cast<std::size_t>(t) >= scores.cols)
            throw Error(context, "target class " + std::to_string(t) + " outside [0, " +
                                     std::to_string(scores.cols) + ")");
}

std::size_t argmax_row(const ConstMatrixView& m, std::size_t r) {
    std::size_t best = 0;
    for (std::size_t c = 1; c < m.cols; ++c)
        if (m.at(r, c) > m.at(r, best)) best = c;
    return best;
}

}  // namespace

void check_same_shape(const ConstMatrixView& scores, const ConstMatrixView& labels,
                      const std::string& context) {
    check_view(scores, context + " (scores)");
    check_view(labels, context + " (labels)");
    if (scores.rows != labels.rows || scores.cols != labels.cols)
        throw Error(context, "scores are [" + std::to_string(scores.rows) + ", " +
                                 std::to_string(scores.cols) + "] but labels are [" +
                                 std::to_string(labels.rows) + ", " + std::to_string(labels.cols) +
                                 "]; expected the same [clips, tags]");
}

namespace {

struct AucAp {
    double auc, ap;
};

// ROC-AUC and AP from one descending sort; both walk the tie groups (distinct thresholds).
AucAp auc_and_ap(const std::vector<std::pair<float, bool>>& pairs) {
    double positives = 0;
    for (const auto& p : pairs) positives += p.second ? 1 : 0;
    const double negatives = static_cast<double>(pairs.size()) - positives;
    double tp = 0, fp = 0, area = 0, ap = 0;
    std::size_t i = 0;
    while (i < pairs.size()) {
        const double tp0 = tp, fp0 = fp;
        const float s = pairs[i].first;
        for (; i < pairs.size() && pairs[i].first == s; ++i) (pairs[i].second ? tp : fp) += 1;
        area += (fp - fp0) * (tp + tp0) * 0.5;  // trapezoid: a tie group is a diagonal segment
        if (positives > 0) ap += (tp - tp0) / positives * (tp / (tp + fp));  // (R_k - R_{k-1}) * P_k
    }
    return {positives > 0 && negatives > 0 ? area / (positives * negatives) : kNaN,
            positives > 0 ? ap : kNaN};
}

}  // namespace

double roc_auc(std::span<const float> scores, std::span<const float> labels) {
    check_spans(scores, labels, "roc_auc");
    return auc_and_ap(sorted_pairs(scores, labels)).auc;
}

double average_precision(std::span<const float> scores, std::span<const float> labels) {
    check_spans(scores, labels, "average_precision");
    return auc_and_ap(sorted_pairs(scores, labels)).ap;
}

BinaryCurves binary_curves(std::span<const float> scores, std::span<const float> labels) {
    check_spans(scores, labels, "binary_curves");
    const auto pairs = sorted_pairs(scores, labels);
    double positives = 0;
    for (const auto& p : pairs) positives += p.second ? 1 : 0;
    const double negatives = static_cast<double>(pairs.size()) - positives;
    BinaryCurves c;
    if (positives == 0 || negatives == 0) return c;
    c.fpr = {0};
    c.tpr = {0};
    c.recall = {0};
    c.precision = {1};
    double tp = 0, fp = 0;
    for (std::size_t i = 0; i < pairs.size();) {
        const float s = pairs[i].first;
        for (; i < pairs.size() && pairs[i].first == s; ++i) (pairs[i].second ? tp : fp) += 1;
        c.fpr.push_back(fp / negatives);
        c.tpr.push_back(tp / positives);
        c.recall.push_back(tp / positives);
        c.precision.push_back(tp / (tp + fp));
    }
    return c;
}

TaggingMetrics tagging_metrics(const ConstMatrixView& scores, const ConstMatrixView& labels) {
    check_same_shape(scores, labels, "tagging_metrics");
    TaggingMetrics m;
    m.roc_auc.assign(scores.cols, kNaN);
    m.average_precision.assign(scores.cols, kNaN);
    double sum_auc = 0, sum_ap = 0;
    std::size_t used = 0;
    for (std::size_t t = 0; t < scores.cols; ++t) {
        const auto r = auc_and_ap(sorted_pairs(column(scores, t), column(labels, t)));
        if (std::isnan(r.auc)) {  // only one class present: neither metric is defined
            m.skipped_tags.push_back(t);
            continue;
        }
        m.roc_auc[t] = r.auc;
        m.average_precision[t] = r.ap;
        sum_auc += r.auc;
        sum_ap += m.average_precision[t];
        ++used;
    }
    m.macro_roc_auc = used ? sum_auc / static_cast<double>(used) : kNaN;
    m.macro_average_precision = used ? sum_ap / static_cast<double>(used) : kNaN;
    m.micro_roc_auc = roc_auc(scores.values, labels.values);
    return m;
}

double precision_at_k(const ConstMatrixView& scores, const ConstMatrixView& labels, std::size_t k) {
    check_same_shape(scores, labels, "precision_at_k");
    if (k == 0 || k > scores.cols)
        throw Error("precision_at_k",
                    "k = " + std::to_string(k) + " must be in [1, " + std::to_string(scores.cols) + "]");
    if (scores.rows == 0) return kNaN;
    std::vector<std::size_t> order(scores.cols);
    double total = 0;
    for (std::size_t r = 0; r < scores.rows; ++r) {
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) {
                             const float sa = scores.at(r, a), sb = scores.at(r, b);
                             return std::isnan(sb) ? !std::isnan(sa) : sa > sb;
                         });
        std::size_t hits = 0;
        for (std::size_t j = 0; j < k; ++j) hits += is_positive(labels.at(r, order[j])) ? 1 : 0;
        total += static_cast<double>(hits) / static_cast<double>(k);
    }
    return total / static_cast<double>(scores.rows);
}

double accuracy(const ConstMatrixView& scores, std::span<const std::int32_t> targets) {
    check_targets(scores, targets, "accuracy");
    if (scores.rows == 0) return kNaN;
    std::size_t correct = 0;
    for (std::size_t r = 0; r < scores.rows; ++r)
        correct += argmax_row(scores, r) == static_cast<std::size_t>(targets[r]) ? 1 : 0;
    return static_cast<double>(correct) / static_cast<double>(scores.rows);
}

double top_k_accuracy(const ConstMatrixView& scores, std::span<const std::int32_t> targets, std::size_t k) {
    check_targets(scores, targets, "top_k_accuracy");
    if (k == 0) throw Error("top_k_accuracy", "k must be >= 1");
    if (scores.rows == 0) return kNaN;
    std::size_t hits = 0;
    for (std::size_t r = 0; r < scores.rows; ++r) {
        const auto t = static_cast<std::size_t>(targets[r]);
        const float st = scores.at(r, t);
        std::size_t ahead = 0;  // classes ranked before the target
        for (std::size_t c = 0; c < scores.cols; ++c) {
            const float sc = scores.at(r, c);
            if (sc > st || (sc == st && c > t)) ++ahead;
        }
        hits += ahead < k ? 1 : 0;
    }
    return static_cast<double>(hits) / static_cast<double>(scores.rows);
}

std::vector<std::int64_t> confusion_matrix(const ConstMatrixView& scores,
                                           std::span<const std::int32_t> targets) {
    check_targets(scores, targets, "confusion_matrix");
    std::vector<std::int64_t> cm(scores.cols * scores.cols, 0);
    for (std::size_t r = 0; r < scores.rows; ++r)
        ++cm[static_cast<std::size_t>(targets[r]) * scores.cols + argmax_row(scores, r)];
    return cm;
}

ClassReport class_report(std::span<const std::int64_t> confusion, std::size_t classes) {
    if (confusion.size() != classes * classes)
        throw Error("class_report", "confusion matrix holds " + std::to_string(confusion.size()) +
                                        " counts, expected classes^2 = " + std::to_string(classes * classes));
    ClassReport rep;
    rep.precision.assign(classes, 0);
    rep.recall.assign(classes, 0);
    rep.f1.assign(classes, 0);
    rep.support.assign(classes, 0);
    for (std::size_t c = 0; c < classes; ++c) {
        std::int64_t predicted = 0;
        for (std::size_t t = 0; t < classes; ++t) {
            predicted += confusion[t * classes + c];
            rep.support[c] += confusion[c * classes + t];
        }
        const double tp = static_cast<double>(confusion[c * classes + c]);
        if (predicted > 0) rep.precision[c] = tp / static_cast<double>(predicted);
        if (rep.support[c] > 0) rep.recall[c] = tp / static_cast<double>(rep.support[c]);
        const double pr = rep.precision[c] + rep.recall[c];
        if (pr > 0) rep.f1[c] = 2 * rep.precision[c] * rep.recall[c] / pr;
        rep.macro_f1 += rep.f1[c];
    }
    if (classes) rep.macro_f1 /= static_cast<double>(classes);
    return rep;
}

}  // namespace mtag::nn
