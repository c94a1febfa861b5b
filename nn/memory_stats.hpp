#pragma once
// Bytes held by nn::Tensor storages (all threads): what the engine itself allocates for activations,
// gradients, parameters and optimizer state, without malloc overhead, scratch buffers or BLAS. Used by
// `mtag bench train` to say where a training step's memory goes next to the process RSS peak.
#include <cstddef>

namespace mtag::nn {

// Bytes of Tensor storage alive now.
std::size_t tensor_bytes_live();
// Highest tensor_bytes_live() since the start or the last reset_tensor_bytes_peak().
std::size_t tensor_bytes_peak();
// Restarts the peak at the current live count.
void reset_tensor_bytes_peak();

}  // namespace mtag::nn
