#pragma once
// A finite-difference check of a whole model's backward pass, the model-level counterpart of every layer's
// gradient test (ref: torch.autograd.gradcheck and its fast mode, Ortiz et al. 2021 "fast gradcheck"; CS231n
// "gradient checks"). mtag computes in float32, so the check is built for single precision:
//
//  - the loss is a fixed random projection of the outputs, L = sum_i c_i y_i (c ~ N(0, 1), seeded), summed in
//    double; its gradient d L / d y = c reaches every output without a saturating loss;
//  - a layer is a module that owns parameters ("blocks.0.conv"). Its gradient g (one backward pass) is compared
//    with finite differences of L, in one of two modes:
//      directions (opt-in, torch's fast mode): for `directions` seeded random directions v over all of the
//        layer's parameters, g . v against (L(w + h v) - L(w - h v)) / 2h. Each parameter tensor gets a unit
//        Gaussian direction scaled by the tensor's RMS x sqrt(size), so the step h is RELATIVE (every weight moves
//        by about h x its tensor's RMS) and a small tensor (a bias, a BatchNorm shift) weighs as much as the big
//        weight beside it. Moving all weights at once makes the change of L large against float32 rounding;
//      entries (default): for `samples` entries of each parameter tensor, the partial derivative against central
//        differences with an absolute step h; entries where the steps h and h/2 disagree (float32 rounding
//        dominating a tiny partial derivative) are skipped and counted, and a layer with no entry left fails. It
//        names WHICH entry of a layer a bug touches;
//    in both, the numerical value is the Richardson estimate (4 n(h/2) - n(h)) / 3 over the steps h and h/2;
//  - the relative error is |a - n| / max(|a|, |n|, floor) (torch's atol + rtol |n|, with atol tied to the layer):
//    directions: floor = 0.1 x the layer's typical directional derivative (sqrt of E[(g . v)^2], from g and from
//    the numerical values), and at least 1e-2 x the largest typical value of any layer, since float32 rounding of
//    L is a fraction of the model's output, not of one layer's share; entries: floor = 1e-2 x the RMS of the
//    layer's sampled gradients. A layer fails when its worst value exceeds `tolerance`.
//
// Switches are frozen (nn/switching.hpp): after the base forward/backward pass, every ReLU mask, max-pool argmax,
// global-max argmax and Maxout choice is kept for the perturbed passes, so the finite differences are taken on the
// smooth piece of the loss that contains the base point, whose exact derivative is what backward computes. A step
// crossing a kink (two near-equal maxima, an activation near 0) would otherwise differentiate a different
// function (before 2026-12-06: errors of 0.05..1 on fcn4, short_chunk_cnn, sample_cnn with correct gradients).
// This keeps the check a true one: a wrong backward pass is still a wrong derivative of that piece. Not frozen:
// ELU (continuously differentiable at alpha 1) and the Keras-1 hard-sigmoid gates inside GRU/LSTM.
//
// The model runs in training mode (BatchNorm with the batch's statistics, recomputed and differentiated in every
// pass) with every Dropout reseeded identically before each forward pass, so L is a deterministic function of
// the parameters. Only parameter gradients are checked: the input gradient of the first layer is switched off
// (a fixed front end such as DftMelgram has none). A broken weight gradient fails that layer, a broken input
// gradient the layers before it, so the failing layer nearest the output is where to look first
// (GradcheckResult::first_failure).
#include "nn/module.hpp"
#include "nn/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mtag::nn {

enum class GradcheckMode { directions, entries };

struct GradcheckOptions {
    // entries is the default: it names the entry a bug touches; directions moves a whole layer at once.
    GradcheckMode mode = GradcheckMode::entries;
    std::size_t directions = 3;  // random directions per layer (directions mode)
    std::size_t samples = 4;     // entries sampled per parameter tensor (entries mode)
    // The finite-difference step h: relative to each tensor's RMS in directions mode, absolute in entries mode.
    double eps = 1e-3;
    // Largest relative error that passes (float32 entries: correct small models show up to about 1e-2; a broken
    // backward pass gives 0.1..2).
    double tolerance = 5e-2;
    std::uint64_t seed = 0;      // the projection c, the directions and the entries sampled
};

struct LayerGradcheck {
    std::string layer;           // "blocks.0.conv"
    std::size_t parameters = 0;  // elements of its parameters
    std::size_t checked = 0;     // directions or entries compared
    std::size_t skipped = 0;     // entries where the loss is not smooth at step h (entries mode; left out)
    double worst_error = 0;      // largest relative error of a checked direction or entry
    std::string worst_entry;     // "direction 2: analytic 0.0123, numerical 0.0119" or "conv.weight[17]: ..."
    bool passed = true;
};

struct GradcheckResult {
    std::vector<LayerGradcheck> layers;  // in the order of the model's parameters (forward order)
    bool passed = true;
    std::string first_failure;           // the failing layer nearest the output; "" when passed
};

// Checks `model` on `input` (a tiny batch). Leaves the model's parameters and buffers as they were (gradients
// zeroed, training mode, input gradient setting restored).
GradcheckResult gradcheck(Module& model, const Tensor& input, const GradcheckOptions& options = {});

// "directions" / "entries", and back (throws mtag::Error naming the option on anything else).
std::string to_string(GradcheckMode mode);
GradcheckMode parse_gradcheck_mode(const std::string& text);

}  // namespace mtag::nn
