#include "nn/train/lr_finder.hpp"

#include "dsp/error.hpp"

#include <cmath>
#include <string>

namespace mtag::nn {

LrFinder::LrFinder(LrFinderOptions options) : m_o(options) {
    if (!(m_o.min_lr > 0 && m_o.max_lr > m_o.min_lr))
        throw Error("lr finder", "needs 0 < min lr < max lr, got " + std::to_string(m_o.min_lr) + " and " +
                                     std::to_string(m_o.max_lr));
    if (m_o.steps < 2) throw Error("lr finder", "needs at least 2 steps, got " + std::to_string(m_o.steps));
}

double LrFinder::lr_at(std::size_t s) const {
    const double t = static_cast<double>(s) / static_cast<double>(m_o.steps - 1);
    return m_o.min_lr * std::pow(m_o.max_lr / m_o.min_lr, t);
}

bool LrFinder::record(double loss) {
    const std::size_t s = m_points.size();
    if (!std::isfinite(loss)) {
        m_diverged = true;
        return false;
    }
    m_avg = m_o.beta * m_avg + (1 - m_o.beta) * loss;
    const double smoothed = m_avg / (1 - std::pow(m_o.beta, static_cast<double>(s + 1)));  // debiased
    m_points.push_back({s, lr_at(s), loss, smoothed});
    if (s == 0 || smoothed < m_best) m_best = smoothed;
    if (s > 0 && smoothed > m_o.diverge_factor * m_best) {
        m_diverged = true;
        return false;
    }
    return s + 1 < m_o.steps;
}

LrSuggestion LrFinder::suggest() const {
    LrSuggestion out;
    const std::size_t n = m_points.size();
    // Lightning: skip the first and last points; with a short curve keep at least 3 points to differentiate.
    std::size_t lo = m_o.skip_start, hi = n > m_o.skip_end ? n - m_o.skip_end : 0;
    if (hi < lo + 3) {
        lo = 0;
        hi = n;
    }
    if (hi < lo + 3) return out;
    std::size_t best_min = lo;
    for (std::size_t i = lo; i < hi; ++i)
        if (m_points[i].smoothed < m_points[best_min].smoothed) best_min = i;
    // The descent that leads to the minimum: points after it are on the way to divergence. Each point's slope
    // against log(lr) is a central difference over +-k points (k = n / 25, at least 1), which a noisy curve
    // (small batches, dropout) needs; numpy.gradient's k = 1 is the same for a smooth one.
    const std::size_t end = std::max(best_min + 1, std::min(hi, lo + 3));
    const std::size_t k = std::max<std::size_t>(1, n / 25);
    double steepest = 0;
    for (std::size_t i = lo; i < end; ++i) {
        const std::size_t a = i >= lo + k ? i - k : lo, b = std::min(i + k, end - 1);
        if (b == a) continue;
        const double g = (m_points[b].smoothed - m_points[a].smoothed) /
                         (std::log(m_points[b].lr) - std::log(m_points[a].lr));
        if (!out.found || g < steepest) {
            steepest = g;
            out.index = i;
            out.found = true;
        }
    }
    if (!out.found) return out;
    out.lr = m_points[out.index].lr;
    out.min_loss_lr = m_points[best_min].lr;
    out.min_loss_lr_div10 = out.min_loss_lr / 10;
    return out;
}

}  // namespace mtag::nn
