#include "nn/optim/weight_decay.hpp"

namespace mtag::nn {

void add_decay_gradient(const float* value, const float* grad, float* out, std::size_t n, float l1,
                        float l2) {
    if (l1 == 0.0f) {
        for (std::size_t i = 0; i < n; ++i) out[i] = grad[i] + l2 * value[i];
    } else if (l2 == 0.0f) {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = grad[i] + l1 * static_cast<float>((value[i] > 0) - (value[i] < 0));
    } else {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = grad[i] + l1 * static_cast<float>((value[i] > 0) - (value[i] < 0)) + l2 * value[i];
    }
}

void decay_decoupled(float* value, std::size_t n, double lr, double weight_decay) {
    const auto keep = static_cast<float>(1.0 - lr * weight_decay);
    for (std::size_t i = 0; i < n; ++i) value[i] *= keep;
}

}  // namespace mtag::nn
