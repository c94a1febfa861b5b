#include "nn/inference_mode.hpp"

namespace mtag::nn {

namespace {
thread_local bool t_inference = false;
thread_local const Module* t_lent_to = nullptr;  // InputDonation: the layer, and the data it may overwrite
thread_local const float* t_lent_data = nullptr;
}  // namespace

bool inference_mode() { return t_inference; }

InferenceMode::InferenceMode(bool on) : m_previous(t_inference) { t_inference = on; }

InferenceMode::~InferenceMode() { t_inference = m_previous; }

InputDonation::InputDonation(const Module& layer, const Tensor& input, bool on)
    : m_previous_layer(t_lent_to), m_previous_data(t_lent_data) {
    t_lent_to = on && input.defined() ? &layer : nullptr;
    t_lent_data = on && input.defined() ? input.data() : nullptr;
}

InputDonation::~InputDonation() {
    t_lent_to = m_previous_layer;
    t_lent_data = m_previous_data;
}

bool may_overwrite_input(const Module& layer, const Tensor& input) {
    return t_inference && t_lent_to == &layer && input.defined() && t_lent_data == input.data() &&
           input.unique_storage();
}

Tensor output_buffer(Tensor& cache, const Shape& shape) {
    if (!t_inference) return reuse_or_allocate(cache, shape);
    cache = Tensor();
    return Tensor::uninitialized(shape);
}

}  // namespace mtag::nn
