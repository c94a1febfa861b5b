#pragma once
// LSTM, one layer, batch-first: (N, T, F) -> (N, T, H) (return_sequences) or (N, H) (the last hidden
// state), initial hidden and cell states zero, forward and backward through time. Two conventions
// (nn/layers/recurrent.hpp), the same equations with a different gate function and weight layout:
//     i = s(a_i), f = s(a_f), g = tanh(a_g), o = s(a_o)   with a = x W + h U + b for each gate
//     c' = f * c + i * g,   h' = o * tanh(c')
//
// pytorch  ref: torch.nn.LSTM docs. s = logistic sigmoid; gates in i, f, g, o order in every (4H, .)
//   parameter: weight_ih_l0 (4H, F), weight_hh_l0 (4H, H), bias_ih_l0 (4H), bias_hh_l0 (4H).
// keras1   ref: Keras 1.2 recurrent.py LSTM.step (consume_less='cpu'). s = hard sigmoid; x multiplied
//   from the left. Parameters in Keras's weight order: W_i (F, H), U_i (H, H), b_i (H), W_c, U_c, b_c,
//   W_f, U_f, b_f, W_o, U_o, b_o (the candidate g is Keras's "c"); each forward packs them into one
//   (F, 4H), (H, 4H), (4H) set in i, f, c, o column blocks — the layout of a consume_less='gpu' file's
//   W, U, b.
//
// Cost as GRU (nn/layers/gru.hpp): one GEMM for the input projections of all steps, one hidden GEMM per
// step forward and one backward, one GEMM for the recurrent weight gradient; caches sized per sequence.
#include "nn/layers/recurrent.hpp"

namespace mtag::nn {

struct LstmOptions {
    std::int64_t input_size = 1;   // F
    std::int64_t hidden_size = 1;  // H
    RnnConvention convention = RnnConvention::pytorch;
    bool return_sequences = true;  // (N, T, H) of every step, else (N, H) of the last
};

class LSTM : public Module {
  public:
    explicit LSTM(const LstmOptions& options);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "LSTM"; }
    nlohmann::json config() const override;
    const LstmOptions& options() const { return m_options; }

  private:
    void run_steps();
    void backward_steps(const Tensor& gy);
    void accumulate_weight_grads(Tensor& gx);
    float gate(float a) const { return m_hard ? rnn::hard_sigmoid(a) : rnn::sigmoid(a); }
    float gate_grad(float y) const { return m_hard ? rnn::hard_sigmoid_grad(y) : y * (1.0f - y); }

    LstmOptions m_options;
    rnn::WeightLayout m_layout;
    bool m_hard;  // hard-sigmoid gates (keras1)
    // pytorch: weight_ih, weight_hh, bias_ih, bias_hh. keras1: W_i, U_i, b_i, W_c, U_c, b_c, W_f, ... b_o.
    std::vector<Parameter*> m_params;
    std::vector<Parameter*> m_keras_w, m_keras_u, m_keras_b;  // keras1: per gate in packed (i, f, c, o) order
    const float* m_w_ih = nullptr;                            // (4H, F) out_in, or (F, 4H) in_out
    const float* m_w_hh = nullptr;                            // (4H, H) out_in, or (H, 4H) in_out
    Tensor m_w_packed, m_u_packed, m_b_packed, m_dw_packed, m_du_packed, m_db_packed;  // keras1 only

    // Caches of the last forward (N batch rows, T steps).
    std::int64_t m_n = 0, m_t = 0;
    Tensor m_input;   // (N, T, F), shared with the caller
    Tensor m_gi;      // (N*T, 4H) batch-major: input projections + input bias
    Tensor m_gates;   // (T, N, 4H): i, f, g, o (activated)
    Tensor m_cells;   // (T+1, N, H): c_0 = 0, c_1 .. c_T
    Tensor m_tanh_c;  // (T, N, H): tanh(c_t)
    Tensor m_states;  // (T+1, N, H): h_0 = 0, h_1 .. h_T
    Tensor m_output;
    Tensor m_step;  // (N, 4H): the hidden product of the current step
    // Backward scratch.
    Tensor m_dgi;                 // (N*T, 4H) batch-major: d loss / d gate pre-activations
    Tensor m_dgh;                 // (T, N, 4H): the same, time-major
    Tensor m_carry_h, m_carry_c;  // (N, H): d loss / d h_{t-1}, d c_{t-1}
};

}  // namespace mtag::nn
