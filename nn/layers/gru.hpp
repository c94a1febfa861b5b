#pragma once
// GRU, one layer, batch-first: (N, T, F) -> (N, T, H) (return_sequences) or (N, H) (the last state),
// initial state zero, forward and backward through time. Two conventions (nn/layers/recurrent.hpp):
//
// pytorch  ref: torch.nn.GRU docs. Gates in r, z, n order in every (3H, .) parameter:
//     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))          (reset applied AFTER the hidden product)
//     h' = (1 - z) * n + z * h
//   parameters weight_ih_l0 (3H, F), weight_hh_l0 (3H, H), bias_ih_l0 (3H), bias_hh_l0 (3H): a
//   torch state_dict loads name for name.
//
// keras1   ref: Keras 1.2 recurrent.py GRU.step (consume_less='cpu'). x multiplied from the left:
//     z = hard_sigmoid(x W_z + h U_z + b_z),  r = hard_sigmoid(x W_r + h U_r + b_r)
//     hh = tanh(x W_h + (r * h) U_h + b_h)                      (reset applied BEFORE U_h)
//     h' = z * h + (1 - z) * hh
//   parameters, in Keras's own weight order: W_z (F, H), U_z (H, H), b_z (H), W_r, U_r, b_r, W_h, U_h,
//   b_h — the arrays of a Keras 1 HDF5 file ("gru1_W_z", ...) copy over as they are. A Keras
//   consume_less='gpu' file holds W (F, 3H), U (H, 3H), b (3H) in z, r, h column blocks: split them.
//   Each forward packs the nine into one (F, 3H), (H, 3H), (3H) set (a few KB) for the GEMMs.
//
// Cost: the input projection of all N*T rows is one GEMM; each step is one hidden GEMM (pytorch) or two
// (keras1: r must be known before (r * h) U_h) on N rows; backward mirrors it and takes the recurrent
// weight gradient in one GEMM over all steps. Caches for the whole sequence are sized by forward and
// reused from batch to batch: no tensor or buffer is allocated per time step.
#include "nn/layers/recurrent.hpp"

namespace mtag::nn {

struct GruOptions {
    std::int64_t input_size = 1;   // F
    std::int64_t hidden_size = 1;  // H
    RnnConvention convention = RnnConvention::pytorch;
    bool return_sequences = true;  // (N, T, H) of every step, else (N, H) of the last
};

class GRU : public Module {
  public:
    explicit GRU(const GruOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "GRU"; }
    nlohmann::json config() const override;
    const GruOptions& options() const { return m_options; }

  private:
    void forward_pytorch();
    void forward_keras1();
    void backward_pytorch(const Tensor& gy);
    void backward_keras1(const Tensor& gy);
    void finish_input_projection_backward(Tensor& gx);

    GruOptions m_options;
    rnn::WeightLayout m_layout;
    // pytorch: weight_ih, weight_hh, bias_ih, bias_hh. keras1: W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h.
    std::vector<Parameter*> m_params;
    // The weights the GEMMs read: pytorch's parameters themselves, keras1's packed in z, r, h blocks.
    const float* m_w_ih = nullptr;                 // (3H, F) out_in, or (F, 3H) in_out
    const float* m_w_hh = nullptr;                 // (3H, H) out_in, or (H, 3H) in_out
    const float* m_b_ih = nullptr;                 // (3H)
    Tensor m_w_packed, m_u_packed, m_b_packed;     // keras1 only
    Tensor m_dw_packed, m_du_packed, m_db_packed;  // keras1 only: gradients before unpacking

    // Caches of the last forward (N batch rows, T steps).
    std::int64_t m_n = 0, m_t = 0;
    Tensor m_input;   // (N, T, F), shared with the caller
    Tensor m_gi;      // (N*T, 3H) batch-major: input projections + input bias
    Tensor m_gates;   // (T, N, 3H): pytorch r, z, n; keras1 z, r, hh (activated)
    Tensor m_hidden;  // (T, N, H): pytorch W_hn h + b_hn; keras1 r * h_prev
    Tensor m_states;  // (T+1, N, H): h_0 = 0, h_1 .. h_T
    Tensor m_output;
    Tensor m_step;  // (N, 3H): the hidden products of the current step
    // Backward scratch.
    Tensor m_dgi;    // (N*T, 3H) batch-major: d loss / d input projections
    Tensor m_dgh;    // (T, N, 3H): d loss / d hidden products (pre-activation)
    Tensor m_carry;  // (N, H): d loss / d h_{t-1}
    Tensor m_drh;    // (N, H): keras1 d loss / d (r * h_prev)
};

}  // namespace mtag::nn
