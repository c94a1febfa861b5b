#pragma once
// A finite-difference check of a whole model's backward pass, the model-level counterpart of every layer's
// gradient test (ref: torch.autograd.gradcheck; CS231n "gradient checks"). mtag computes in float32, so the
// check is built for single precision:
//
//  - the loss is a fixed random projection of the outputs, L = sum_i c_i y_i (c ~ N(0, 1), seeded), summed in
//    double; its gradient d L / d y = c reaches every output without a saturating loss;
//  - for a sampled set of entries of every parameter, the analytic gradient of one backward pass is compared
//    with central differences (L(w + h) - L(w - h)) / 2h at the step h and at h / 2. Where the two steps
//    disagree (by more than half the tolerance) the loss is not smooth there (a ReLU or max-pool switch crossed, or float32 rounding dominates)
//    and the entry is skipped and counted, as a float64 gradcheck would not need to; elsewhere the Richardson
//    estimate (4 n(h/2) - n(h)) / 3 is the numerical gradient;
//  - the relative error of an entry is |a - n| / max(|a|, |n|, floor), floor = 1e-2 x the RMS of the layer's
//    sampled gradients (torch's atol + rtol |n| with atol scaled to the layer), and a layer fails when its
//    worst entry exceeds `tolerance`. In float32 a correct model shows errors up to about 1e-2 (rounding of the
//    forward passes, kinks just under the step), hence the default 5e-2; a real backward bug gives O(0.1..1).
//
// The model runs in training mode (BatchNorm with batch statistics) with every Dropout reseeded identically
// before each forward pass, so the function is deterministic. A layer is a module that owns parameters
// ("blocks.0.conv"); a broken weight gradient fails that layer, a broken input gradient fails the layers
// before it, so the failing layer nearest the output is where to look first (GradcheckResult::first_failure).
#include "nn/module.hpp"
#include "nn/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mtag::nn {

struct GradcheckOptions {
    std::size_t samples = 4;     // entries sampled per parameter tensor
    double eps = 1e-3;           // the finite-difference step h (absolute)
    double tolerance = 5e-2;     // largest relative error that passes (float32: see above)
    std::uint64_t seed = 0;      // entries sampled and the projection c
};

struct LayerGradcheck {
    std::string layer;           // "blocks.0.conv"
    std::size_t parameters = 0;  // elements of its parameters
    std::size_t checked = 0;     // entries compared
    std::size_t skipped = 0;     // entries where the loss is not smooth at step h (left out)
    double worst_error = 0;      // largest relative error of a checked entry
    std::string worst_entry;     // "blocks.0.conv.weight[17]: analytic 0.0123, numerical 0.0119"
    bool passed = true;
};

struct GradcheckResult {
    std::vector<LayerGradcheck> layers;  // in the order of the model's parameters (forward order)
    bool passed = true;
    std::string first_failure;           // the failing layer nearest the output; "" when passed
};

// Checks `model` on `input` (a tiny batch). Leaves the model's parameters and buffers as they were (gradients
// zeroed, training mode).
GradcheckResult gradcheck(Module& model, const Tensor& input, const GradcheckOptions& options = {});

}  // namespace mtag::nn
