#pragma once
// The weight-decay arithmetic shared by every optimizer (its weight_decay / decay_mode options,
// nn/optim/optimizer.hpp) and by the regularisation penalties (nn/train/regularization.hpp), so that one
// implementation serves both.
#include "nn/parameter.hpp"

#include <cstddef>

namespace mtag::nn {

// Whether decay applies to `p`: trainable, and not a bias or normalisation parameter unless
// decay_bias_and_norm (torch decays everything; Loshchilov & Hutter and most recipes exclude them).
inline bool decays(const Parameter& p, bool decay_bias_and_norm) {
    return p.requires_grad && (decay_bias_and_norm || !p.is_bias_or_norm);
}

// out[i] = grad[i] + l1 * sign(value[i]) + l2 * value[i]: the gradient of l1 * sum|w| + (l2 / 2) * sum w^2
// added to grad (sign(0) = 0, as torch.sign). out may alias grad. With l1 = 0 it is exactly torch's coupled
// weight_decay (grad + wd * w); the terms whose coefficient is 0 are not evaluated.
void add_decay_gradient(const float* value, const float* grad, float* out, std::size_t n, float l1, float l2);

// value[i] *= 1 - lr * weight_decay: decoupled weight decay (AdamW; Loshchilov & Hutter 2019).
void decay_decoupled(float* value, std::size_t n, double lr, double weight_decay);

}  // namespace mtag::nn
