#pragma once
// Permute: reorders the dims of a tensor, as torch.Tensor.permute, and copies the data into the new
// (contiguous) order. `dims` lists ALL dims, the batch included, and must keep the batch first
// (dims[0] == 0): output dim i is input dim dims[i]. Keras's Permute(dims) numbers only the non-batch
// dims from 1, so Keras Permute((3, 1, 2)) is Permute({.dims = {0, 3, 1, 2}}) here.
// Typical use, conv maps to a sequence: (N, C, 1, T) -> {0, 3, 1, 2} -> (N, T, C, 1), then Reshape to
// (N, T, C) for a GRU. ref: torch.permute; Keras 1.2 core.py Permute.
#include "nn/module.hpp"

#include <vector>

namespace mtag::nn {

struct PermuteOptions {
    std::vector<std::int64_t> dims;  // a permutation of 0 .. rank-1 with dims[0] == 0; rank 2..4
};

class Permute : public Module {
  public:
    explicit Permute(const PermuteOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Permute"; }
    nlohmann::json config() const override;

  private:
    PermuteOptions m_options;
    std::vector<std::int64_t> m_inverse;  // dims of the inverse permutation (for backward)
    Shape m_input_shape;                  // of the last forward (rank 0 before the first)
    Tensor m_output;
};

// out = in permuted by dims (dims.size() == in.rank()); out must have the permuted shape.
void permute_into(const Tensor& in, const std::vector<std::int64_t>& dims, const Tensor& out);

}  // namespace mtag::nn
