#include "nn/layers/batchnorm.hpp"

#include "dsp/error.hpp"
#include "nn/inference_mode.hpp"
#include "nn/lane_sum.hpp"
#include "nn/threads.hpp"

#include <algorithm>
#include <cmath>

namespace mtag::nn {

namespace {

// Calls f(ch, offset) for channels [c0, c1) of every row b of an (n, c, s) tensor, offset = (b c + ch) s.
// Each channel sees its rows in order either way, so per-channel sums come out bit-identical; with
// s == 1 (features along the last axis, e.g. the CRNN's BN over time of (N * 96, 1440)) the loops run
// row by row over contiguous memory, where channel by channel they would stride through it c floats at
// a time (measured 10-50x slower for that shape).
template <class F>
void for_channel_rows(std::int64_t c0, std::int64_t c1, std::int64_t n, std::int64_t c, std::int64_t s,
                      F&& f) {
    if (s == 1) {
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t ch = c0; ch < c1; ++ch) f(ch, b * c + ch);
        return;
    }
    for (std::int64_t ch = c0; ch < c1; ++ch)
        for (std::int64_t b = 0; b < n; ++b) f(ch, (b * c + ch) * s);
}

// Adds row_sum(ch, offset) over the n rows of each channel in [c0, c1) to out[ch], rows in order (the
// offsets of for_channel_rows). Channel by channel the running sum stays in a register: through memory
// each row's addition waited for the previous row's store.
template <class RowSum>
void add_channel_sums(std::int64_t c0, std::int64_t c1, std::int64_t n, std::int64_t c, std::int64_t s, double* out,
                      RowSum&& row_sum) {
    if (s == 1) {
        for (std::int64_t b = 0; b < n; ++b)
            for (std::int64_t ch = c0; ch < c1; ++ch) out[ch] += row_sum(ch, b * c + ch);
        return;
    }
    for (std::int64_t ch = c0; ch < c1; ++ch) {
        double acc = out[ch];
        for (std::int64_t b = 0; b < n; ++b) acc += row_sum(ch, (b * c + ch) * s);
        out[ch] = acc;
    }
}

// Calls f(g0, g1) for groups of channels in [c0, c1) whose passes run back to back: one channel at a time
// (its n rows of s values), or the whole range when s == 1, where a single channel's values are c floats
// apart and for_channel_rows walks rows of the range instead.
template <class F>
void for_channel_groups(std::int64_t c0, std::int64_t c1, std::int64_t s, F&& f) {
    if (s == 1) {
        f(c0, c1);
        return;
    }
    for (std::int64_t ch = c0; ch < c1; ++ch) f(ch, ch + 1);
}

// Channels per parallel chunk: whole cache lines of a row when s == 1.
std::int64_t channel_grain(std::int64_t s) {
    return s == 1 ? 64 : 1;
}

}  // namespace

BatchNormBase::BatchNormBase(const BatchNormOptions& options) : m_options(options) {
    if (options.num_features < 1)
        throw Error("nn::BatchNorm options",
                    "num_features = " + std::to_string(options.num_features) + ", expected >= 1");
    if (!(options.eps > 0.0)) throw Error("nn::BatchNorm options", "eps must be > 0");
    if (options.momentum < 0.0 || options.momentum > 1.0)
        throw Error("nn::BatchNorm options",
                    "momentum = " + std::to_string(options.momentum) + ", expected in [0, 1]");
    if (options.axis == 0 || options.axis < -4 || options.axis > 3)
        throw Error("nn::BatchNorm options",
                    "axis = " + std::to_string(options.axis) + ", expected 1..3 or -1..-3 (0 is the batch)");
    const std::int64_t c = options.num_features;
    if (options.affine) {
        m_weight = &register_parameter("weight", {c}, true);
        m_weight->value.fill(1.0f);
        m_bias = &register_parameter("bias", {c}, true);
    }
    if (options.track_running_stats) {
        m_running_mean = &register_buffer("running_mean", Tensor({c}));
        m_running_var = &register_buffer("running_var", Tensor::full({c}, 1.0f));
        m_num_batches = &register_buffer("num_batches_tracked", Tensor(Shape{}), true);
    }
}

Tensor BatchNormBase::normalize(const Tensor& input, std::initializer_list<int> ranks,
                                const std::string& layout) {
    const int rank = input.rank();
    const auto axis = static_cast<int>(m_options.axis < 0 ? rank + m_options.axis : m_options.axis);
    if (std::find(ranks.begin(), ranks.end(), rank) == ranks.end() || axis < 1 || axis >= rank ||
        input.dim(axis) != m_options.num_features)
        throw Error("nn::" + type(), "input shape " + input.shape().str() + ", expected " + layout +
                                         " with " + std::to_string(m_options.num_features) +
                                         " features along axis " + std::to_string(m_options.axis));
    // (n, c, s): the dims before the feature axis act as the batch, those after it as the spatial ones.
    std::int64_t n = 1, s = 1;
    for (int d = 0; d < axis; ++d) n *= input.dim(d);
    for (int d = axis + 1; d < rank; ++d) s *= input.dim(d);
    const std::int64_t c = m_options.num_features;
    const std::int64_t count = n * s;
    m_input_shape = input.shape();
    m_used_batch_stats = is_training() || !m_options.track_running_stats || m_options.use_batch_stats_in_eval;
    if (m_used_batch_stats && count < 2)
        throw Error("nn::" + type(),
                    "training needs more than one value per channel, got input shape " + input.shape().str());
    m_input = saved_for_backward(input.view({n, c, s}));
    if (!m_inv_std.defined() || m_inv_std.dim(0) != c) {
        m_inv_std = Tensor({c});
        m_mean = Tensor({c});
    }
    // Training: a fresh output that BN does not keep. Its only user after an in-place ReLU is the next
    // layer's forward (ReLU keeps a mask, max-pooling an argmax), so the memory is free once that has
    // run instead of staying resident through backward (PyTorch holds it until ReLU's backward). Eval:
    // nothing is saved for backward, and reusing one buffer avoids fresh page faults per batch. Inference
    // mode: a fresh buffer, freed once the next layer has read it (nn/inference_mode.hpp).
    // A lent input (nn/inference_mode.hpp) is normalised in place: each value is read once, then written.
    Tensor y = is_training()                    ? Tensor::uninitialized(input.shape())
               : may_overwrite_input(*this, input) ? input
                                                   : output_buffer(m_output, input.shape());
    if (y.data() == input.data()) m_output = Tensor();
    if (is_training()) m_output = Tensor();
    const bool update = m_used_batch_stats && m_options.track_running_stats && is_training();
    const float momentum = static_cast<float>(m_options.momentum);
    // The reducer is a collective: only training calls it (eval batches may differ between ranks).
    m_synced = m_used_batch_stats && is_training() && m_reducer;
    // Statistics: two passes (mean, then squared deviations about it), per row 16-lane float sums
    // (nn/lane_sum.hpp), rows combined in double in a fixed order, so the result does not depend on threads.
    // Synchronised, each pass's per-channel sums are summed over the ranks, so the mean and variance are the
    // global batch's.
    m_stats.assign(static_cast<std::size_t>(1 + 2 * c), 0.0);
    double* sums = m_stats.data() + 1;
    double* sqs = sums + c;
    m_stats[0] = static_cast<double>(count);
    m_count = m_stats[0];
    m_mean_f.resize(static_cast<std::size_t>(c));
    m_coef.resize(static_cast<std::size_t>(2 * c));
    float* scale = m_coef.data();
    float* shift = scale + c;
    const auto sum_pass = [&](std::int64_t c0, std::int64_t c1) {
        add_channel_sums(c0, c1, n, c, s, sums,
                         [&](std::int64_t, std::int64_t at) { return lane_sum(input.data() + at, s); });
    };
    const auto set_means = [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch)
            m_mean_f[static_cast<std::size_t>(ch)] = static_cast<float>(sums[ch] / m_count);
    };
    const auto deviation_pass = [&](std::int64_t c0, std::int64_t c1) {
        add_channel_sums(c0, c1, n, c, s, sqs, [&](std::int64_t ch, std::int64_t at) {
            return lane_sum_squared_deviation(input.data() + at, s, m_mean_f[static_cast<std::size_t>(ch)]);
        });
    };
    // Per channel: the statistics used (and the running-statistics update), then the affine map's coefficients.
    const auto set_coefficients = [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch) {
            const auto uch = static_cast<std::size_t>(ch);
            double mean, var;
            if (m_used_batch_stats) {
                mean = sums[ch] / m_count;
                var = sqs[ch] / m_count;
                if (update) {
                    float& rm = m_running_mean->value[uch];
                    float& rv = m_running_var->value[uch];
                    const double unbiased = sqs[ch] / (m_count - 1.0);
                    rm = (1.0f - momentum) * rm + momentum * static_cast<float>(mean);
                    rv = (1.0f - momentum) * rv + momentum * static_cast<float>(unbiased);
                }
            } else {
                mean = m_running_mean->value[uch];
                var = m_running_var->value[uch];
            }
            m_inv_std[uch] = static_cast<float>(1.0 / std::sqrt(var + m_options.eps));
            m_mean[uch] = static_cast<float>(mean);
            scale[ch] = m_weight ? m_weight->value[uch] : 1.0f;  // gamma
            shift[ch] = m_bias ? m_bias->value[uch] : 0.0f;      // beta
        }
    };
    const std::shared_ptr<Activation> next = m_fused.lock();
    Activation* const fused = next && next->fuses_after(input.shape(), s) ? next.get() : nullptr;
    m_fused_applied = fused != nullptr;
    if (fused) fused->begin_fused(y);
    const auto normalize_pass = [&](std::int64_t c0, std::int64_t c1) {
        const float* mean = m_mean.data();
        const float* inv = m_inv_std.data();
        for_channel_rows(c0, c1, n, c, s, [&](std::int64_t ch, std::int64_t at) {
            const float* x = input.data() + at;
            float* out = y.data() + at;
            const float m = mean[ch], v = inv[ch], gamma = scale[ch], beta = shift[ch];
            // Blocks of 16 KiB: the activation reads each while it is still in L1.
            constexpr std::int64_t block = 4096;
            for (std::int64_t i0 = 0; i0 < s; i0 += block) {
                const std::int64_t i1 = std::min(s, i0 + block);
                for (std::int64_t i = i0; i < i1; ++i) out[i] = (x[i] - m) * v * gamma + beta;
                if (fused) fused->apply_fused(y.data(), at + i0, i1 - i0);
            }
        });
    };
    const std::int64_t grain = channel_grain(s);
    if (m_synced) {
        // Each reduction waits for every channel (and rank) in between.
        parallel_for(c, grain, sum_pass);
        m_reducer(std::span<double>(m_stats.data(), static_cast<std::size_t>(1 + c)));
        m_count = m_stats[0];
        set_means(0, c);
        parallel_for(c, grain, deviation_pass);
        m_reducer(std::span<double>(sqs, static_cast<std::size_t>(c)));
        set_coefficients(0, c);
        parallel_for(c, grain, normalize_pass);
    } else {
        // Channels are independent: all passes of one channel (of one chunk when s == 1) run back to back
        // while its values are in cache, in one parallel loop instead of three. The same operations in the
        // same order as above, so the same bits.
        parallel_for(c, grain, [&](std::int64_t c0, std::int64_t c1) {
            for_channel_groups(c0, c1, s, [&](std::int64_t g0, std::int64_t g1) {
                if (m_used_batch_stats) {
                    sum_pass(g0, g1);
                    set_means(g0, g1);
                    deviation_pass(g0, g1);
                }
                set_coefficients(g0, g1);
                normalize_pass(g0, g1);
            });
        });
    }
    if (update) m_num_batches->value[0] += 1.0f;
    return y;
}

Tensor BatchNormBase::backward(const Tensor& gy) {
    if (!m_input.defined()) throw Error("nn::" + type(), nothing_saved_message);
    if (!(gy.shape() == m_input_shape))
        throw Error("nn::" + type() + "::backward",
                    "grad_output shape " + gy.shape().str() + ", expected " + m_input_shape.str());
    const std::int64_t n = m_input.dim(0), c = m_input.dim(1), s = m_input.dim(2);
    // Each channel's sums are complete (pass 1) before its gradient is overwritten (pass 2), so gy may be
    // the output buffer.
    Tensor gx = input_grad() ? gradient_buffer(gy) : Tensor();
    m_stats.assign(static_cast<std::size_t>(2 * c), 0.0);
    double* sums_g = m_stats.data();
    double* sums_gx = sums_g + c;
    const std::int64_t grain = channel_grain(s);
    const float* mean = m_mean.data();
    const float* inv = m_inv_std.data();
    const auto sum_pass = [&](std::int64_t c0, std::int64_t c1) {
        add_channel_sums(c0, c1, n, c, s, sums_g,
                         [&](std::int64_t, std::int64_t at) { return lane_sum(gy.data() + at, s); });
        add_channel_sums(c0, c1, n, c, s, sums_gx, [&](std::int64_t ch, std::int64_t at) {
            return static_cast<double>(lane_sum_product_deviation(gy.data() + at, m_input.data() + at, s, mean[ch])) *
                   inv[ch];
        });
    };
    // This rank's share: the gradient synchroniser sums the parameter gradients over ranks.
    const auto add_parameter_grads = [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch) {
            const auto uch = static_cast<std::size_t>(ch);
            if (m_weight && m_weight->requires_grad) m_weight->grad[uch] += static_cast<float>(sums_gx[ch]);
            if (m_bias && m_bias->requires_grad) m_bias->grad[uch] += static_cast<float>(sums_g[ch]);
        }
    };
    // Training: dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)); eval: gamma/sigma * dy.
    // dx depends on the means over the whole (global) batch of dy and dy * xhat.
    const double count = m_used_batch_stats ? m_count : static_cast<double>(n * s);
    m_coef.resize(static_cast<std::size_t>(3 * c));
    float* scale = m_coef.data();
    float* mg = scale + c;
    float* mgx = mg + c;
    const auto set_coefficients = [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch) {
            const auto uch = static_cast<std::size_t>(ch);
            scale[ch] = (m_weight ? m_weight->value[uch] : 1.0f) * inv[ch];
            mg[ch] = m_used_batch_stats ? static_cast<float>(sums_g[ch] / count) : 0.0f;
            mgx[ch] = m_used_batch_stats ? static_cast<float>(sums_gx[ch] / count) : 0.0f;
        }
    };
    const auto input_grad_pass = [&](std::int64_t c0, std::int64_t c1) {
        for_channel_rows(c0, c1, n, c, s, [&](std::int64_t ch, std::int64_t at) {
            const float* g = gy.data() + at;
            const float* x = m_input.data() + at;
            float* out = gx.data() + at;
            const float m = mean[ch], v = inv[ch], k = scale[ch], a = mg[ch], b = mgx[ch];
            for (std::int64_t i = 0; i < s; ++i) out[i] = k * (g[i] - a - (x[i] - m) * v * b);
        });
    };
    if (m_synced && gx.defined()) {
        parallel_for(c, grain, sum_pass);
        add_parameter_grads(0, c);
        m_reducer(std::span<double>(m_stats.data(), static_cast<std::size_t>(2 * c)));
        set_coefficients(0, c);
        parallel_for(c, grain, input_grad_pass);
    } else {
        // As in forward: one parallel loop, each channel's (chunk's) passes back to back, the same bits.
        parallel_for(c, grain, [&](std::int64_t c0, std::int64_t c1) {
            for_channel_groups(c0, c1, s, [&](std::int64_t g0, std::int64_t g1) {
                sum_pass(g0, g1);
                add_parameter_grads(g0, g1);
                if (!gx.defined()) return;
                set_coefficients(g0, g1);
                input_grad_pass(g0, g1);
            });
        });
    }
    m_input = Tensor();  // backward is done with it; the producer may reuse its buffer next batch
    return gx;
}

nlohmann::json BatchNormBase::config() const {
    nlohmann::json j{{"type", type()},
                     {"num_features", m_options.num_features},
                     {"eps", m_options.eps},
                     {"momentum", m_options.momentum},
                     {"affine", m_options.affine},
                     {"track_running_stats", m_options.track_running_stats}};
    // Only when set, so the model.json of PyTorch-style models stays as it was.
    if (m_options.axis != 1) j["axis"] = m_options.axis;
    if (m_options.use_batch_stats_in_eval) j["use_batch_stats_in_eval"] = true;
    return j;
}

Tensor BatchNorm1d::forward(const Tensor& input) {
    return normalize(input, {2, 3}, "(N, C) or (N, C, L)");
}

Tensor BatchNorm2d::forward(const Tensor& input) {
    return normalize(input, {4}, "(N, C, H, W)");
}

}  // namespace mtag::nn
