#pragma once
// Polyak / exponential moving average of a model's weights (ref: Polyak & Juditsky 1992; torch.optim.swa_utils
// AveragedModel with get_ema_multi_avg_fn(decay), and timm's ModelEmaV2): after every optimizer step
//
//     ema = decay * ema + (1 - decay) * w          (the first update copies w, as AveragedModel does)
//
// for every parameter, frozen ones included. BatchNorm buffers: with use_buffers (AveragedModel's
// use_buffers=True, timm's default) the float buffers (running_mean, running_var) are averaged the same way and
// integer ones (num_batches_tracked) copied; without it the averaged model uses the live model's buffers when it
// is evaluated (AveragedModel(use_buffers=False) keeps stale ones and needs update_bn; copying the current
// statistics is the usual substitute and costs no data pass).
//
// The averaged weights live beside the model; swap() exchanges them with the model's own values so that the
// same model object can be validated or saved with the averaged weights, then swapped back.
#include "nn/module.hpp"
#include "nn/tensor.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

struct EmaOptions {
    double decay = 0.999;     // in [0, 1): weight of the old average per step
    bool use_buffers = true;  // average BatchNorm running statistics too (else use the live model's)
};

class ExponentialMovingAverage {
  public:
    // Tracks every parameter and buffer of `model` (which must outlive this object). Throws mtag::Error for a
    // decay outside [0, 1).
    ExponentialMovingAverage(Module& model, EmaOptions options);

    // Folds the model's current weights into the average (call after each optimizer step).
    void update();
    // Exchanges the model's values with the averaged ones (parameters, and buffers when averaged); calling
    // it twice restores the model. Before the first update() it does nothing.
    void swap();
    // Updates folded in so far (AveragedModel's n_averaged).
    std::int64_t updates() const { return m_updates; }

    // The averaged tensors under "ema.<name>" for a checkpoint, and their restoration (tensors found by name;
    // a missing one throws naming it).
    std::vector<std::pair<std::string, Tensor>> state() const;
    void load_state(const std::vector<std::pair<std::string, Tensor>>& tensors, std::int64_t updates);

  private:
    struct Slot {
        std::string name;
        Tensor* live;   // the model's tensor
        Tensor average;
        bool integer;   // copied, not averaged (num_batches_tracked)
    };
    EmaOptions m_options;
    std::vector<Slot> m_slots;
    std::int64_t m_updates = 0;
};

}  // namespace mtag::nn
