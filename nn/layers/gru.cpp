#include "nn/layers/gru.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/threads.hpp"

namespace mtag::nn {

namespace {

const GruOptions& validated(const GruOptions& o) {
    if (o.input_size < 1 || o.hidden_size < 1)
        throw Error("nn::GRU options", "input_size = " + std::to_string(o.input_size) + ", hidden_size = " +
                                           std::to_string(o.hidden_size) + ", expected both >= 1");
    return o;
}

}  // namespace

GRU::GRU(const GruOptions& options)
    : m_options(validated(options)),
      m_layout(options.convention == RnnConvention::pytorch ? rnn::WeightLayout::out_in
                                                            : rnn::WeightLayout::in_out) {
    const std::int64_t f = options.input_size, h = options.hidden_size;
    if (options.convention == RnnConvention::pytorch) {
        m_params = {&register_parameter("weight_ih_l0", {3 * h, f}),
                    &register_parameter("weight_hh_l0", {3 * h, h}),
                    &register_parameter("bias_ih_l0", {3 * h}, true),
                    &register_parameter("bias_hh_l0", {3 * h}, true)};
    } else {
        for (const char* gate : {"z", "r", "h"}) {
            m_params.push_back(&register_parameter(std::string("W_") + gate, {f, h}));
            m_params.push_back(&register_parameter(std::string("U_") + gate, {h, h}));
            m_params.push_back(&register_parameter(std::string("b_") + gate, {h}, true));
        }
    }
    init_blas();
}

nlohmann::json GRU::config() const {
    return {{"type", type()},
            {"input_size", m_options.input_size},
            {"hidden_size", m_options.hidden_size},
            {"convention", rnn_convention_name(m_options.convention)},
            {"return_sequences", m_options.return_sequences}};
}

Tensor GRU::forward(const Tensor& input) {
    rnn::check_input("nn::GRU", input, m_options.input_size);
    const std::int64_t h = m_options.hidden_size;
    m_input = saved_for_backward(input);
    m_n = input.dim(0);
    m_t = input.dim(1);
    if (m_options.convention == RnnConvention::pytorch) {
        m_w_ih = m_params[0]->data();
        m_w_hh = m_params[1]->data();
        m_b_ih = m_params[2]->data();
    } else {
        rnn::pack_columns({m_params[0], m_params[3], m_params[6]}, m_w_packed);
        rnn::pack_columns({m_params[1], m_params[4], m_params[7]}, m_u_packed);
        rnn::pack_columns({m_params[2], m_params[5], m_params[8]}, m_b_packed);
        m_w_ih = m_w_packed.data();
        m_w_hh = m_u_packed.data();
        m_b_ih = m_b_packed.data();
    }
    rnn::project_inputs(m_layout, input, m_w_ih, m_b_ih, 3 * h, m_gi);
    rnn::ensure(m_gates, {m_t, m_n, 3 * h});
    rnn::ensure(m_hidden, {m_t, m_n, h});
    rnn::ensure(m_states, {m_t + 1, m_n, h});
    rnn::ensure(m_step, {m_n, 3 * h});
    std::fill(m_states.data(), m_states.data() + m_n * h, 0.0f);  // h_0
    if (m_options.convention == RnnConvention::pytorch)
        forward_pytorch();
    else
        forward_keras1();
    return rnn::gather_output(m_states, m_options.return_sequences, m_output);
}

void GRU::forward_pytorch() {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 3 * h;
    const float* b_hh = m_params[3]->data();
    float* gh = m_step.data();  // W_hh h_{t-1} + b_hh
    for (std::int64_t t = 0; t < steps; ++t) {
        const float* hp = m_states.data() + t * n * h;
        float* hn = m_states.data() + (t + 1) * n * h;
        rnn::broadcast_rows(static_cast<int>(n), static_cast<int>(g), b_hh, gh, static_cast<int>(g));
        rnn::apply(m_layout, static_cast<int>(n), static_cast<int>(g), static_cast<int>(h), hp,
                   static_cast<int>(h), m_w_hh, static_cast<int>(h), 1.0f, gh, static_cast<int>(g));
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* xi = m_gi.data() + (b * steps + t) * g;
                const float* hh = gh + b * g;
                float* gate = m_gates.data() + (t * n + b) * g;
                float* ghn = m_hidden.data() + (t * n + b) * h;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float r = rnn::sigmoid(xi[j] + hh[j]);
                    const float z = rnn::sigmoid(xi[h + j] + hh[h + j]);
                    const float cand = std::tanh(xi[2 * h + j] + r * hh[2 * h + j]);
                    gate[j] = r;
                    gate[h + j] = z;
                    gate[2 * h + j] = cand;
                    ghn[j] = hh[2 * h + j];
                    hn[b * h + j] = (1.0f - z) * cand + z * hp[b * h + j];
                }
            }
        });
    }
}

void GRU::forward_keras1() {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 3 * h;
    const int in = static_cast<int>(n), ih = static_cast<int>(h), ig = static_cast<int>(g);
    float* gh = m_step.data();  // h U_z | h U_r | (r * h) U_h
    for (std::int64_t t = 0; t < steps; ++t) {
        const float* hp = m_states.data() + t * n * h;
        float* hn = m_states.data() + (t + 1) * n * h;
        float* rh = m_hidden.data() + t * n * h;
        // z and r from h_{t-1}: one product with the first 2H columns of U.
        rnn::apply(m_layout, in, 2 * ih, ih, hp, ih, m_w_hh, ig, 0.0f, gh, ig);
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* xi = m_gi.data() + (b * steps + t) * g;
                float* gate = m_gates.data() + (t * n + b) * g;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float z = rnn::hard_sigmoid(xi[j] + gh[b * g + j]);
                    const float r = rnn::hard_sigmoid(xi[h + j] + gh[b * g + h + j]);
                    gate[j] = z;
                    gate[h + j] = r;
                    rh[b * h + j] = r * hp[b * h + j];
                }
            }
        });
        // The candidate's hidden term needs r first: (r * h_{t-1}) U_h.
        rnn::apply(m_layout, in, ih, ih, rh, ih, m_w_hh + 2 * h, ig, 0.0f, gh + 2 * h, ig);
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* xi = m_gi.data() + (b * steps + t) * g;
                float* gate = m_gates.data() + (t * n + b) * g;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float cand = std::tanh(xi[2 * h + j] + gh[b * g + 2 * h + j]);
                    const float z = gate[j];
                    gate[2 * h + j] = cand;
                    hn[b * h + j] = z * hp[b * h + j] + (1.0f - z) * cand;
                }
            }
        });
    }
}

Tensor GRU::backward(const Tensor& gy) {
    if (!m_input.defined()) throw Error("nn::GRU", nothing_saved_message);
    const std::int64_t h = m_options.hidden_size;
    rnn::check_grad_output("nn::GRU", gy, m_options.return_sequences ? Shape{m_n, m_t, h} : Shape{m_n, h});
    rnn::ensure(m_dgi, {m_n * m_t, 3 * h});
    rnn::ensure(m_dgh, {m_t, m_n, 3 * h});
    rnn::ensure(m_carry, {m_n, h}).zero();
    if (m_options.convention == RnnConvention::pytorch)
        backward_pytorch(gy);
    else
        backward_keras1(gy);
    Tensor gx;
    finish_input_projection_backward(gx);
    m_input = Tensor();  // the producer may reuse its buffer for the next batch
    return gx;
}

void GRU::backward_pytorch(const Tensor& gy) {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 3 * h;
    const bool seq = m_options.return_sequences;
    float* carry = m_carry.data();
    for (std::int64_t t = steps - 1; t >= 0; --t) {
        const float* hp = m_states.data() + t * n * h;
        float* dgh = m_dgh.data() + t * n * g;
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* go = rnn::output_grad_row(gy, seq, b, t, steps, h);
                const float* gate = m_gates.data() + (t * n + b) * g;
                const float* ghn = m_hidden.data() + (t * n + b) * h;
                float* dgi = m_dgi.data() + (b * steps + t) * g;
                float* dgh_row = dgh + b * g;
                float* c = carry + b * h;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float dh = c[j] + (go ? go[j] : 0.0f);
                    const float r = gate[j], z = gate[h + j], cand = gate[2 * h + j];
                    const float da_n = dh * (1.0f - z) * (1.0f - cand * cand);
                    const float da_r = da_n * ghn[j] * r * (1.0f - r);
                    const float da_z = dh * (hp[b * h + j] - cand) * z * (1.0f - z);
                    dgi[j] = dgh_row[j] = da_r;
                    dgi[h + j] = dgh_row[h + j] = da_z;
                    dgi[2 * h + j] = da_n;
                    dgh_row[2 * h + j] = da_n * r;  // n's hidden term is r * (W_hn h + b_hn)
                    c[j] = dh * z;
                }
            }
        });
        if (t > 0)  // d h_{t-1} += dgh W_hh (h_0 is a constant)
            rnn::apply_transposed(m_layout, static_cast<int>(n), static_cast<int>(h), static_cast<int>(g),
                                  dgh, static_cast<int>(g), m_w_hh, static_cast<int>(h), 1.0f, carry,
                                  static_cast<int>(h));
    }
    Parameter& w_hh = *m_params[1];
    Parameter& b_hh = *m_params[3];
    if (w_hh.requires_grad) {
        // All steps at once: dW_hh += sum_t dgh_t^T h_{t-1}, over the T*N rows of states 0..T-1.
        rnn::accumulate_weight_grad(m_layout, static_cast<int>(h), static_cast<int>(g),
                                    static_cast<int>(steps * n), m_states.data(), static_cast<int>(h),
                                    m_dgh.data(), static_cast<int>(g), w_hh.grad_data(), static_cast<int>(h));
        rnn::accumulate_bias_grad(static_cast<int>(steps * n), static_cast<int>(g), m_dgh.data(),
                                  static_cast<int>(g), b_hh.grad_data());
    }
}

void GRU::backward_keras1(const Tensor& gy) {
    const std::int64_t n = m_n, steps = m_t, h = m_options.hidden_size, g = 3 * h;
    const int in = static_cast<int>(n), ih = static_cast<int>(h), ig = static_cast<int>(g);
    const bool seq = m_options.return_sequences;
    float* carry = m_carry.data();
    float* drh = rnn::ensure(m_drh, {n, h}).data();
    for (std::int64_t t = steps - 1; t >= 0; --t) {
        const float* hp = m_states.data() + t * n * h;
        float* dgh = m_dgh.data() + t * n * g;
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* go = rnn::output_grad_row(gy, seq, b, t, steps, h);
                const float* gate = m_gates.data() + (t * n + b) * g;
                float* c = carry + b * h;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float dh = c[j] + (go ? go[j] : 0.0f);
                    const float z = gate[j], cand = gate[2 * h + j];
                    dgh[b * g + j] = dh * (hp[b * h + j] - cand) * rnn::hard_sigmoid_grad(z);
                    dgh[b * g + 2 * h + j] = dh * (1.0f - z) * (1.0f - cand * cand);
                    c[j] = dh * z;
                }
            }
        });
        // d (r * h_{t-1}) = da_h U_h^T; then r's gradient and the direct path to h_{t-1}.
        rnn::apply_transposed(m_layout, in, ih, ih, dgh + 2 * h, ig, m_w_hh + 2 * h, ig, 0.0f, drh, ih);
        rnn::for_rows(n, h, [&](std::int64_t b0, std::int64_t b1) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const float* gate = m_gates.data() + (t * n + b) * g;
                float* dgi = m_dgi.data() + (b * steps + t) * g;
                for (std::int64_t j = 0; j < h; ++j) {
                    const float r = gate[h + j], d = drh[b * h + j];
                    dgh[b * g + h + j] = d * hp[b * h + j] * rnn::hard_sigmoid_grad(r);
                    carry[b * h + j] += d * r;
                }
                std::copy(dgh + b * g, dgh + (b + 1) * g,
                          dgi);  // Keras has one bias per gate, on the input side
            }
        });
        if (t > 0)  // d h_{t-1} += [da_z, da_r] [U_z, U_r]^T
            rnn::apply_transposed(m_layout, in, ih, 2 * ih, dgh, ig, m_w_hh, ig, 1.0f, carry, ih);
    }
    if (m_params[0]->requires_grad) {
        rnn::ensure(m_du_packed, {h, g}).zero();
        const int rows = static_cast<int>(steps * n);
        rnn::accumulate_weight_grad(m_layout, ih, 2 * ih, rows, m_states.data(), ih, m_dgh.data(), ig,
                                    m_du_packed.data(), ig);
        rnn::accumulate_weight_grad(m_layout, ih, ih, rows, m_hidden.data(), ih, m_dgh.data() + 2 * h, ig,
                                    m_du_packed.data() + 2 * h, ig);
        rnn::unpack_column_grads(m_du_packed, {m_params[1], m_params[4], m_params[7]});
    }
}

void GRU::finish_input_projection_backward(Tensor& gx) {
    if (input_grad()) gx = Tensor::uninitialized(m_input.shape());
    if (!m_params[0]->requires_grad) {
        rnn::project_inputs_backward(m_layout, m_input, m_dgi, m_w_ih, nullptr, nullptr, gx);
        return;
    }
    if (m_options.convention == RnnConvention::pytorch) {
        rnn::project_inputs_backward(m_layout, m_input, m_dgi, m_w_ih, m_params[0]->grad_data(),
                                     m_params[2]->grad_data(), gx);
        return;
    }
    const std::int64_t g = 3 * m_options.hidden_size;
    rnn::ensure(m_dw_packed, {m_options.input_size, g}).zero();
    rnn::ensure(m_db_packed, {g}).zero();
    rnn::project_inputs_backward(m_layout, m_input, m_dgi, m_w_ih, m_dw_packed.data(), m_db_packed.data(),
                                 gx);
    rnn::unpack_column_grads(m_dw_packed, {m_params[0], m_params[3], m_params[6]});
    rnn::unpack_column_grads(m_db_packed, {m_params[2], m_params[5], m_params[8]});
}

}  // namespace mtag::nn
