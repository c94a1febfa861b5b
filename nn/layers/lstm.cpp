#include "nn/layers/lstm.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

namespace mtag::nn {

namespace {

const LstmOptions& validated(const LstmOptions& o) {
    if (o.input_size < 1 || o.hidden_size < 1)
        throw Error("nn::LSTM options", "input_size = " + std::to_string(o.input_size) + ", hidden_size = " +
                                            std::to_string(o.hidden_size) + ", expected both >= 1");
    return o;
}

}  // namespace

LSTM::LSTM(const LstmOptions& options)
    : m_options(validated(options)),
      m_layout(options.convention == RnnConvention::pytorch ? rnn::WeightLayout::out_in
                                                            : rnn::WeightLayout::in_out),
      m_hard(options.convention == RnnConvention::keras1) {
    const std::int64_t f = options.input_size, h = options.hidden_size;
    if (options.convention == RnnConvention::pytorch) {
        m_params = {&register_parameter("weight_ih_l0", {4 * h, f}),
                    &register_parameter("weight_hh_l0", {4 * h, h}),
                    &register_parameter("bias_ih_l0", {4 * h}, true),
                    &register_parameter("bias_hh_l0", {4 * h}, true)};
    } else {
        // Keras's weight order (i, c, f, o); packed in the computation's order (i, f, c, o).
        for (const char* gate : {"i", "c", "f", "o"}) {
            m_params.push_back(&register_parameter(std::string("W_") + gate, {f, h}));
            m_params.push_back(&register_parameter(std::string("U_") + gate, {h, h}));
            m_params.push_back(&register_parameter(std::string("b_") + gate, {h}, true));
        }
        for (const int k : {0, 2, 1, 3}) {
            m_keras_w.push_back(m_params[static_cast<std::size_t>(3 * k)]);
            m_keras_u.push_back(m_params[static_cast<std::size_t>(3 * k + 1)]);
            m_keras_b.push_back(m_params[static_cast<std::size_t>(3 * k + 2)]);
        }
    }
    init_blas();
}

nlohmann::json LSTM::config() const {
    return {{"type", type()},
            {"input_size", m_options.input_size},
            {"hidden_size", m_options.hidden_size},
            {"convention", rnn_convention_name(m_options.convention)},
            {"return_sequences", m_options.return_sequences}};
}

Tensor LSTM::forward(const Tensor& input) {
    rnn::check_input("nn::LSTM", input, m_options.input_size);
    const std::int64_t h = m_options.hidden_size;
    m_input = saved_for_backward(input);
    m_n = input.dim(0);
    m_t = input.dim(1);
    const float* b_ih;
    if (m_options.convention == RnnConvention::pytorch) {
        m_w_ih = m_params[0]->data();
        m_w_hh = m_params[1]->data();
        b_ih = m_params[2]->data();
    } else {
        rnn::pack_columns(m_keras_w, m_w_packed);
        rnn::pack_columns(m_keras_u, m_u_packed);
        rnn::pack_columns(m_keras_b, m_b_packed);
        m_w_ih = m_w_packed.data();
        m_w_hh = m_u_packed.data();
        b_ih = m_b_packed.data();
    }
    rnn::project_inputs(m_layout, input, m_w_ih, b_ih, 4 * h, m_gi);
    rnn::ensure(m_gates, {m_t, m_n, 4 * h});
    rnn::ensure(m_cells, {m_t + 1, m_n, h});
    rnn::ensure(m_tanh_c, {m_t, m_n, h});
    rnn::ensure(m_states, {m_t + 1, m_n, h});
    rnn::ensure(m_step, {m_n, 4 * h});
    std::fill(m_states.data(), m_states.data() + m_n * h, 0.0f);  // h_0
    std::fill(m_cells.data(), m_cells.data() + m_n * h, 0.0f);    // c_0
    run_steps();
    return rnn::gather_output(m_states, m_options.return_sequences, m_output);
}

void LSTM::run_steps() {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 4 * h;
    const int in = static_cast<int>(n), ih = static_cast<int>(h), ig = static_cast<int>(g);
    const int ldw = m_layout == rnn::WeightLayout::out_in ? ih : ig;
    const float* b_hh = m_options.convention == RnnConvention::pytorch ? m_params[3]->data() : nullptr;
    float* gh = m_step.data();
    for (std::int64_t t = 0; t < steps; ++t) {
        const float* hp = m_states.data() + t * n * h;
        const float* cp = m_cells.data() + t * n * h;
        float* hn = m_states.data() + (t + 1) * n * h;
        float* cn = m_cells.data() + (t + 1) * n * h;
        float* tc = m_tanh_c.data() + t * n * h;
        if (b_hh) rnn::broadcast_rows(in, ig, b_hh, gh, ig);
        rnn::apply(m_layout, in, ig, ih, hp, ih, m_w_hh, ldw, b_hh ? 1.0f : 0.0f, gh, ig);
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* xi = m_gi.data() + (b * steps + t) * g;
                const float* hh = gh + b * g;
                float* gates = m_gates.data() + (t * n + b) * g;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float i = gate(xi[j] + hh[j]);
                    const float f = gate(xi[h + j] + hh[h + j]);
                    const float c = std::tanh(xi[2 * h + j] + hh[2 * h + j]);
                    const float o = gate(xi[3 * h + j] + hh[3 * h + j]);
                    gates[j] = i;
                    gates[h + j] = f;
                    gates[2 * h + j] = c;
                    gates[3 * h + j] = o;
                    const float cell = f * cp[b * h + j] + i * c;
                    const float t_c = std::tanh(cell);
                    cn[b * h + j] = cell;
                    tc[b * h + j] = t_c;
                    hn[b * h + j] = o * t_c;
                }
            }
        });
    }
}

Tensor LSTM::backward(const Tensor& gy) {
    if (!m_input.defined()) throw Error("nn::LSTM", nothing_saved_message);
    const std::int64_t h = m_options.hidden_size;
    rnn::check_grad_output("nn::LSTM", gy, m_options.return_sequences ? Shape{m_n, m_t, h} : Shape{m_n, h});
    rnn::ensure(m_dgi, {m_n * m_t, 4 * h});
    rnn::ensure(m_dgh, {m_t, m_n, 4 * h});
    rnn::ensure(m_carry_h, {m_n, h}).zero();
    rnn::ensure(m_carry_c, {m_n, h}).zero();
    backward_steps(gy);
    Tensor gx;
    if (input_grad()) gx = Tensor::uninitialized(m_input.shape());
    accumulate_weight_grads(gx);
    m_input = Tensor();  // the producer may reuse its buffer for the next batch
    return gx;
}

void LSTM::backward_steps(const Tensor& gy) {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 4 * h;
    const int ldw = m_layout == rnn::WeightLayout::out_in ? static_cast<int>(h) : static_cast<int>(g);
    const bool seq = m_options.return_sequences;
    float* carry_h = m_carry_h.data();
    float* carry_c = m_carry_c.data();
    for (std::int64_t t = steps - 1; t >= 0; --t) {
        const float* cp = m_cells.data() + t * n * h;
        const float* tc = m_tanh_c.data() + t * n * h;
        float* dgh = m_dgh.data() + t * n * g;
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* go = rnn::output_grad_row(gy, seq, b, t, steps, h);
                const float* gates = m_gates.data() + (t * n + b) * g;
                float* da = dgh + b * g;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float i = gates[j], f = gates[h + j], c = gates[2 * h + j], o = gates[3 * h + j];
                    const float t_c = tc[b * h + j];
                    const float dh = carry_h[b * h + j] + (go ? go[j] : 0.0f);
                    const float dc = carry_c[b * h + j] + dh * o * (1.0f - t_c * t_c);
                    da[j] = dc * c * gate_grad(i);
                    da[h + j] = dc * cp[b * h + j] * gate_grad(f);
                    da[2 * h + j] = dc * i * (1.0f - c * c);
                    da[3 * h + j] = dh * t_c * gate_grad(o);
                    carry_c[b * h + j] = dc * f;
                }
                std::copy(da, da + g, m_dgi.data() + (b * steps + t) * g);
            }
        });
        if (t > 0)  // d h_{t-1} = da through the hidden weights (h_0 is a constant)
            rnn::apply_transposed(m_layout, static_cast<int>(n), static_cast<int>(h), static_cast<int>(g),
                                  dgh, static_cast<int>(g), m_w_hh, ldw, 0.0f, carry_h, static_cast<int>(h));
    }
}

void LSTM::accumulate_weight_grads(Tensor& gx) {
    const std::int64_t h = m_options.hidden_size, g = 4 * h, rows = m_t * m_n;
    if (!m_params[0]->requires_grad) {
        rnn::project_inputs_backward(m_layout, m_input, m_dgi, m_w_ih, nullptr, nullptr, gx);
        return;
    }
    const bool packed = m_options.convention == RnnConvention::keras1;
    float* du = packed ? rnn::ensure(m_du_packed, {h, g}).data() : m_params[1]->grad_data();
    float* dw =
        packed ? rnn::ensure(m_dw_packed, {m_options.input_size, g}).data() : m_params[0]->grad_data();
    float* db = packed ? rnn::ensure(m_db_packed, {g}).data() : m_params[2]->grad_data();
    if (packed) {
        m_du_packed.zero();
        m_dw_packed.zero();
        m_db_packed.zero();
    }
    // All steps at once: the recurrent weight gradient over the T*N rows of h_0 .. h_{T-1}.
    rnn::accumulate_weight_grad(m_layout, static_cast<int>(h), static_cast<int>(g), static_cast<int>(rows),
                                m_states.data(), static_cast<int>(h), m_dgh.data(), static_cast<int>(g), du,
                                packed ? static_cast<int>(g) : static_cast<int>(h));
    if (!packed)  // PyTorch's second bias gets the same gradient as the first
        rnn::accumulate_bias_grad(static_cast<int>(rows), static_cast<int>(g), m_dgh.data(),
                                  static_cast<int>(g), m_params[3]->grad_data());
    rnn::project_inputs_backward(m_layout, m_input, m_dgi, m_w_ih, dw, db, gx);
    if (packed) {
        rnn::unpack_column_grads(m_du_packed, m_keras_u);
        rnn::unpack_column_grads(m_dw_packed, m_keras_w);
        rnn::unpack_column_grads(m_db_packed, m_keras_b);
    }
}

}  // namespace mtag::nn
