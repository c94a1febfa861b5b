#pragma once
// Regularisation applied around each optimizer step, whatever the optimizer: penalties on the weights
// (L1, L2, both = elastic net), gradient clipping by global norm and by value, and max-norm constraints.
// One call per step, in this order (TrainingState::optimizer_step):
//
//   1. penalties      g += l1 * sign(w) + l2 * w    -- the gradient of  l1 * sum|w| + (l2 / 2) * sum w^2
//                                                       added to the loss (torch's weight_decay convention
//                                                       for the L2 half: weight_decay = l2)
//   2. clip by norm   torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)  (nn::clip_grad_norm)
//   3. clip by value  torch.nn.utils.clip_grad_value_(params, clip_grad_value): g = clamp(g, -v, v)
//   4. optimizer.step()  (its own weight_decay / decay_mode l2 | l1 | decoupled, the same arithmetic:
//                        nn/optim/weight_decay.hpp)
//   5. max-norm       each output unit's incoming weights (a slice along dim 0) rescaled to L2 norm <=
//   max_norm,
//                     torch.renorm(w, p=2, dim=0, maxnorm) (factor max_norm / (norm + 1e-7) where norm >
//                     max_norm; Srivastava et al. 2014, "Dropout", section 5.1; Keras's MaxNorm constraint)
//
// Which to use when: an optimizer's weight_decay is torch's per-optimizer option (one kind: L2, L1 or
// decoupled); these penalties combine (L1 and L2 together = elastic net) and work the same under any
// optimizer. Penalties skip biases and normalisation parameters unless decay_bias_and_norm (the optimizer's
// rule, nn::decays); max-norm touches weights of rank >= 2 only. Frozen parameters are skipped throughout. Elastic net in scikit-learn's terms (alpha, l1_ratio) is l1 = alpha * l1_ratio,
// l2 = alpha * (1 - l1_ratio).
#include "nn/optim/optimizer.hpp"
#include "nn/parameter.hpp"

#include <vector>

namespace mtag::nn {

struct RegularizationOptions {
    double l1 = 0;                      // >= 0
    double l2 = 0;                      // >= 0
    bool decay_bias_and_norm = false;   // penalties on biases and norm parameters too
    double max_norm = 0;                // > 0: per-unit L2 constraint after each step
    double clip_grad_norm = 0;          // > 0: global L2 norm of the gradients at most this
    double clip_grad_value = 0;         // > 0: every gradient element in [-v, v]

    // Throws mtag::Error naming the option for a negative or non-finite value.
    void validate() const;
    bool any() const {
        return l1 > 0 || l2 > 0 || max_norm > 0 || clip_grad_norm > 0 || clip_grad_value > 0;
    }
};

// The penalty l1 * sum|w| + (l2 / 2) * sum w^2 over the penalised parameters (for reporting and tests).
double penalty(const std::vector<Parameter*>& params, const RegularizationOptions& options);
// Step 1: adds the penalty's gradient to every penalised parameter's gradient.
void add_penalty_gradients(const std::vector<Parameter*>& params, const RegularizationOptions& options);
// Step 3: clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value(const std::vector<Parameter*>& params, double clip_value);
// Step 5: torch.renorm(w, 2, 0, max_norm) on every weight of rank >= 2.
void apply_max_norm(const std::vector<Parameter*>& params, double max_norm);

// Steps 1 to 3 on `params`; returns the gradient norm before norm clipping (0 when it is off).
double regularize_gradients(const std::vector<Parameter*>& params, const RegularizationOptions& options);

}  // namespace mtag::nn
