#include "nn/inference_mode.hpp"

namespace mtag::nn {

namespace {
thread_local bool t_inference = false;
}  // namespace

bool inference_mode() { return t_inference; }

InferenceMode::InferenceMode(bool on) : m_previous(t_inference) { t_inference = on; }

InferenceMode::~InferenceMode() { t_inference = m_previous; }

Tensor output_buffer(Tensor& cache, const Shape& shape) {
    if (!t_inference) return reuse_or_allocate(cache, shape);
    cache = Tensor();
    return Tensor::uninitialized(shape);
}

}  // namespace mtag::nn
