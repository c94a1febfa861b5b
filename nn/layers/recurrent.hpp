#pragma once
// What the recurrent layers (GRU, LSTM) share: the weight convention they follow, the gate functions,
// the (N, T, F) input check, the products with a weight stored in either layout, and the packing of
// per-gate Keras matrices into one matrix.
//
// Layout conventions (a reader could guess wrong here):
// - Input is batch-first (N, T, F); the output is (N, T, H) with return_sequences, else (N, H), the
//   last hidden state. The initial state is zero.
// - The input projections of all time steps are one GEMM over the N*T rows of the input, kept
//   batch-major (row n*T + t). The hidden loop keeps its caches time-major ((T, N, .), step t one
//   contiguous (N, .) block), so each step's hidden product is one GEMM over N contiguous rows and the
//   recurrent weight gradient is one GEMM over all T*N rows after the loop.
// - WeightLayout::out_in is PyTorch's (G, K) (y = x W^T); WeightLayout::in_out is Keras's (K, G) (y = x W).
#include "nn/module.hpp"
#include "nn/threads.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace mtag::nn {

// Which reference a recurrent layer follows (parameter names and layouts, gate function).
enum class RnnConvention {
    // torch.nn.GRU / torch.nn.LSTM (single layer, batch_first): weight_ih_l0 (G*H, F), weight_hh_l0
    // (G*H, H), bias_ih_l0 and bias_hh_l0 (G*H); logistic-sigmoid gates.
    pytorch,
    // Keras 1.2 GRU / LSTM with consume_less='cpu' weights: one (F, H) W_*, (H, H) U_* and (H) b_* per
    // gate; hard-sigmoid gates clip(0.2 x + 0.5, 0, 1).
    keras1,
};

// "pytorch" or "keras1".
std::string rnn_convention_name(RnnConvention convention);
// Parses "pytorch" / "keras1"; throws mtag::Error naming `who` otherwise.
RnnConvention parse_rnn_convention(const std::string& name, const std::string& who);

namespace rnn {

inline float sigmoid(float x) {
    return 1.0f / (1.0f + std::exp(-x));
}
// Keras 1 (Theano and TensorFlow backends alike): clip(0.2 x + 0.5, 0, 1).
// ref: Keras 1.2 backend hard_sigmoid; theano.tensor.nnet.hard_sigmoid.
inline float hard_sigmoid(float x) {
    return std::clamp(0.2f * x + 0.5f, 0.0f, 1.0f);
}
// d hard_sigmoid / dx from its output y: 0.2 where 0 < y < 1 (|x| < 2.5), 0 where clipped.
inline float hard_sigmoid_grad(float y) {
    return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
}

enum class WeightLayout { out_in, in_out };

// C (m, g) = A (m, k) applied to the (k -> g) map W, + beta C.
void apply(WeightLayout layout, int m, int g, int k, const float* a, int lda, const float* w, int ldw,
           float beta, float* c, int ldc);
// C (m, k) = D (m, g) applied to W's transpose (back through the map), + beta C.
void apply_transposed(WeightLayout layout, int m, int k, int g, const float* d, int ldd, const float* w,
                      int ldw, float beta, float* c, int ldc);
// dW += (the weight gradient of C = A W) for A (m, k) and dC (m, g), in W's layout.
void accumulate_weight_grad(WeightLayout layout, int k, int g, int m, const float* a, int lda,
                            const float* dc, int lddc, float* dw, int lddw);
// db (g) += column sums of D (m, g).
void accumulate_bias_grad(int m, int g, const float* d, int ldd, float* db);
// Every row of C (m, g) set to the bias b (g).
void broadcast_rows(int m, int g, const float* b, float* c, int ldc);

// The input projections of all steps in ONE GEMM: gi (N*T, G) = x (N*T, F) W + b, W (F -> G) in `layout`.
void project_inputs(WeightLayout layout, const Tensor& x, const float* w, const float* b, std::int64_t g,
                    Tensor& gi);
// Its backward: dW += and db += (when dw is not null), and gx = dgi W^T (when gx is defined).
void project_inputs_backward(WeightLayout layout, const Tensor& x, const Tensor& dgi, const float* w,
                             float* dw, float* db, Tensor& gx);

// Rows of a step per thread-pool chunk: at least ~1024 values (a few microseconds of gate functions),
// or the pool costs more than it saves.
inline std::int64_t row_grain(std::int64_t hidden) {
    return std::max<std::int64_t>(1, (1024 + hidden - 1) / hidden);
}
// Runs body(b0, b1) over the N batch rows of one step, on the thread pool when there are at least two
// chunks of row_grain rows, else directly. Rows are independent: the results do not depend on the thread
// count. The pool's std::function holds only a reference to body, so a step allocates nothing.
template <class F>
void for_rows(std::int64_t n, std::int64_t hidden, F&& body) {
    const std::int64_t grain = row_grain(hidden);
    if (n < 2 * grain) {
        body(std::int64_t{0}, n);
        return;
    }
    parallel_for(n, grain, [&body](std::int64_t b0, std::int64_t b1) { body(b0, b1); });
}

// Throws mtag::Error unless x is (N, T, input_size) with N, T >= 1.
void check_input(const std::string& who, const Tensor& x, std::int64_t input_size);
// Throws mtag::Error unless grad_output has the shape of the last output.
void check_grad_output(const std::string& who, const Tensor& grad_output, const Shape& expected);

// Shapes a layer-owned cache (reusing its storage when possible); contents unspecified.
Tensor& ensure(Tensor& cache, const Shape& shape);

// Packs per-gate matrices (each (K, H), or (H) for biases) side by side into `packed` (K, G*H).
void pack_columns(const std::vector<Parameter*>& parts, Tensor& packed);
// parts[j].grad += columns [j*H, (j+1)*H) of `packed_grad` (K, G*H).
void unpack_column_grads(const Tensor& packed_grad, const std::vector<Parameter*>& parts);

// The output from the time-major states (T+1, N, H) (h_0 first): (N, T, H) of h_1..h_T, or h_T as (N, H).
Tensor gather_output(const Tensor& states, bool return_sequences, Tensor& cache);
// d loss / d h_t for batch row b from grad_output ((N, T, H) or (N, H)); nullptr where none arrives.
inline const float* output_grad_row(const Tensor& gy, bool return_sequences, std::int64_t b, std::int64_t t,
                                    std::int64_t steps, std::int64_t hidden) {
    if (return_sequences) return gy.data() + (b * steps + t) * hidden;
    return t == steps - 1 ? gy.data() + b * hidden : nullptr;
}

}  // namespace rnn

}  // namespace mtag::nn
