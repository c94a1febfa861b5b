#pragma once
// The learning-rate range test (ref: Smith 2017, "Cyclical Learning Rates for Training Neural Networks", 3.3;
// fastai's lr_find and PyTorch Lightning's Tuner.lr_find follow it): train for `steps` optimizer steps while the
// rate grows exponentially from min_lr to max_lr, record the loss of each step, smooth it with a debiased
// exponential moving average (beta 0.98, fastai's), and stop once the smoothed loss exceeds
// diverge_factor x its minimum (4, fastai's) or is not finite.
//
// The suggestion is Lightning's: the rate of the steepest descent of the smoothed loss against log(lr), i.e.
// argmin of its gradient over the points between the first skip_start and the last skip_end (Lightning skips 10
// and 1), with two changes for the noisy curves of small batches: only the descent up to the minimum of the
// smoothed loss is searched (beyond it the loss heads for divergence), and the slope is a central difference
// over +-n/25 points instead of numpy.gradient's neighbours. The other classic reading, the rate of the minimum loss divided by 10 (fastai's
// "lr_min"), is reported beside it.
#include <cstddef>
#include <vector>

namespace mtag::nn {

struct LrFinderOptions {
    double min_lr = 1e-7;
    double max_lr = 10;
    std::size_t steps = 100;
    double beta = 0.98;            // smoothing of the loss
    double diverge_factor = 4;     // stop when smoothed loss > factor x min smoothed loss
    std::size_t skip_start = 10;   // points left out of the suggestion at either end
    std::size_t skip_end = 1;
};

struct LrFinderPoint {
    std::size_t step = 0;
    double lr = 0;
    double loss = 0;
    double smoothed = 0;
};

struct LrSuggestion {
    bool found = false;        // false when too few points were recorded
    double lr = 0;             // steepest descent of the smoothed loss
    double min_loss_lr = 0;    // rate at the smallest smoothed loss
    double min_loss_lr_div10 = 0;
    std::size_t index = 0;     // point of the suggestion
};

class LrFinder {
  public:
    // Throws mtag::Error unless 0 < min_lr < max_lr and steps >= 2.
    explicit LrFinder(LrFinderOptions options);
    // The rate of step `s` (0-based): min_lr (max_lr / min_lr)^(s / (steps - 1)).
    double lr_at(std::size_t s) const;
    // Records the loss of the next step; returns false when the test should stop (diverged, or the last step).
    bool record(double loss);
    bool diverged() const { return m_diverged; }
    const std::vector<LrFinderPoint>& points() const { return m_points; }
    LrSuggestion suggest() const;

  private:
    LrFinderOptions m_o;
    std::vector<LrFinderPoint> m_points;
    double m_avg = 0, m_best = 0;
    bool m_diverged = false;
};

}  // namespace mtag::nn
