#include "nn/layers/recurrent.hpp"

#include "dsp/error.hpp"
#include "nn/gemm.hpp"
#include "nn/inference_mode.hpp"

#include <cstring>

namespace mtag::nn {

std::string rnn_convention_name(RnnConvention convention) {
    return convention == RnnConvention::keras1 ? "keras1" : "pytorch";
}

RnnConvention parse_rnn_convention(const std::string& name, const std::string& who) {
    if (name == "pytorch") return RnnConvention::pytorch;
    if (name == "keras1") return RnnConvention::keras1;
    throw Error(who, "convention '" + name + "', expected pytorch or keras1");
}

namespace rnn {

void apply(WeightLayout layout, int m, int g, int k, const float* a, int lda, const float* w, int ldw,
           float beta, float* c, int ldc) {
    gemm(CblasNoTrans, layout == WeightLayout::out_in ? CblasTrans : CblasNoTrans, m, g, k, 1.0f, a, lda, w,
         ldw, beta, c, ldc);
}

void apply_transposed(WeightLayout layout, int m, int k, int g, const float* d, int ldd, const float* w,
                      int ldw, float beta, float* c, int ldc) {
    gemm(CblasNoTrans, layout == WeightLayout::out_in ? CblasNoTrans : CblasTrans, m, k, g, 1.0f, d, ldd, w,
         ldw, beta, c, ldc);
}

void accumulate_weight_grad(WeightLayout layout, int k, int g, int m, const float* a, int lda,
                            const float* dc, int lddc, float* dw, int lddw) {
    if (layout == WeightLayout::out_in)
        gemm(CblasTrans, CblasNoTrans, g, k, m, 1.0f, dc, lddc, a, lda, 1.0f, dw,
             lddw);  // dW (g, k) += dC^T A
    else
        gemm(CblasTrans, CblasNoTrans, k, g, m, 1.0f, a, lda, dc, lddc, 1.0f, dw,
             lddw);  // dW (k, g) += A^T dC
}

void accumulate_bias_grad(int m, int g, const float* d, int ldd, float* db) {
    // Column sums in double, rows in order: the same bits for any thread count.
    std::vector<double> sums(static_cast<std::size_t>(g), 0.0);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < g; ++j)
            sums[static_cast<std::size_t>(j)] += d[static_cast<std::ptrdiff_t>(i) * ldd + j];
    for (int j = 0; j < g; ++j) db[j] += static_cast<float>(sums[static_cast<std::size_t>(j)]);
}

void broadcast_rows(int m, int g, const float* b, float* c, int ldc) {
    for (int i = 0; i < m; ++i) std::memcpy(c + static_cast<std::ptrdiff_t>(i) * ldc, b, sizeof(float) * g);
}

void project_inputs(WeightLayout layout, const Tensor& x, const float* w, const float* b, std::int64_t g,
                    Tensor& gi) {
    const int rows = static_cast<int>(x.dim(0) * x.dim(1)), f = static_cast<int>(x.dim(2)),
              ig = static_cast<int>(g);
    ensure(gi, {rows, ig});
    broadcast_rows(rows, ig, b, gi.data(), ig);
    apply(layout, rows, ig, f, x.data(), f, w, layout == WeightLayout::out_in ? f : ig, 1.0f, gi.data(), ig);
}

void project_inputs_backward(WeightLayout layout, const Tensor& x, const Tensor& dgi, const float* w,
                             float* dw, float* db, Tensor& gx) {
    const int rows = static_cast<int>(x.dim(0) * x.dim(1)), f = static_cast<int>(x.dim(2)),
              g = static_cast<int>(dgi.dim(1));
    const int ldw = layout == WeightLayout::out_in ? f : g;
    if (dw) {
        accumulate_weight_grad(layout, f, g, rows, x.data(), f, dgi.data(), g, dw, ldw);
        accumulate_bias_grad(rows, g, dgi.data(), g, db);
    }
    if (gx.defined()) apply_transposed(layout, rows, f, g, dgi.data(), g, w, ldw, 0.0f, gx.data(), f);
}

void check_input(const std::string& who, const Tensor& x, std::int64_t input_size) {
    if (x.rank() != 3 || x.dim(0) < 1 || x.dim(1) < 1 || x.dim(2) != input_size)
        throw Error(who, "input shape " + x.shape().str() + ", expected (N, T, " +
                             std::to_string(input_size) + ") with N, T >= 1 (batch first)");
}

void check_grad_output(const std::string& who, const Tensor& grad_output, const Shape& expected) {
    if (!(grad_output.shape() == expected))
        throw Error(who + "::backward",
                    "grad_output shape " + grad_output.shape().str() + ", expected " + expected.str());
}

Tensor& ensure(Tensor& cache, const Shape& shape) {
    reuse_or_allocate(cache, shape);
    return cache;
}

void pack_columns(const std::vector<Parameter*>& parts, Tensor& packed) {
    const Shape& s = parts.front()->shape();
    const std::int64_t rows = s.rank() == 1 ? 1 : s[0], h = s.rank() == 1 ? s[0] : s[1];
    const auto g = static_cast<std::int64_t>(parts.size());
    ensure(packed, s.rank() == 1 ? Shape{g * h} : Shape{rows, g * h});
    for (std::int64_t j = 0; j < g; ++j) {
        const float* src = parts[static_cast<std::size_t>(j)]->data();
        for (std::int64_t r = 0; r < rows; ++r)
            std::memcpy(packed.data() + r * g * h + j * h, src + r * h,
                        sizeof(float) * static_cast<std::size_t>(h));
    }
}

void unpack_column_grads(const Tensor& packed_grad, const std::vector<Parameter*>& parts) {
    const Shape& s = parts.front()->shape();
    const std::int64_t rows = s.rank() == 1 ? 1 : s[0], h = s.rank() == 1 ? s[0] : s[1];
    const auto g = static_cast<std::int64_t>(parts.size());
    for (std::int64_t j = 0; j < g; ++j) {
        float* dst = parts[static_cast<std::size_t>(j)]->grad_data();
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t i = 0; i < h; ++i)
                dst[r * h + i] += packed_grad[static_cast<std::size_t>(r * g * h + j * h + i)];
    }
}

Tensor gather_output(const Tensor& states, bool return_sequences, Tensor& cache) {
    const std::int64_t steps = states.dim(0) - 1, n = states.dim(1), h = states.dim(2);
    const auto row = sizeof(float) * static_cast<std::size_t>(h);
    if (!return_sequences) {
        Tensor y = output_buffer(cache, {n, h});
        std::memcpy(y.data(), states.data() + steps * n * h, row * static_cast<std::size_t>(n));
        return y;
    }
    Tensor y = output_buffer(cache, {n, steps, h});
    for (std::int64_t t = 0; t < steps; ++t)
        for (std::int64_t b = 0; b < n; ++b)
            std::memcpy(y.data() + (b * steps + t) * h, states.data() + ((t + 1) * n + b) * h, row);
    return y;
}

}  // namespace rnn

}  // namespace mtag::nn
