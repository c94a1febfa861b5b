#include "nn/layers/conv.hpp"

#include "dsp/error.hpp"
#include "nn/elementwise.hpp"
#include "nn/gemm.hpp"
#include "nn/inference_mode.hpp"
#include "nn/layers/direct_conv.hpp"
#include "nn/layers/microkernel.hpp"
#include "nn/layers/shifted_taps.hpp"
#include "nn/layers/strided_patches.hpp"
#include "nn/lane_sum.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace mtag::nn {

namespace {

// Largest unrolled tile (floats) before the output rows are split into several tiles: 2 MB, so the
// tile is still in cache when GEMM packs it (measured: 1-2 MB tiles beat 16 MB ones by ~8%).
constexpr std::int64_t tile_budget = std::int64_t{1} << 19;

std::string dims(std::int64_t a, std::int64_t b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

// The default algorithm: MTAG_CONV_ALGO (auto | gemm | winograd_f2 | winograd_f4), else automatic.
ConvAlgorithm default_algorithm() {
    const char* v = std::getenv("MTAG_CONV_ALGO");
    if (!v || !*v || std::string(v) == "auto") return ConvAlgorithm::automatic;
    const std::string s(v);
    if (s == "gemm") return ConvAlgorithm::gemm;
    if (s == "winograd_f2") return ConvAlgorithm::winograd_f2;
    if (s == "winograd_f4") return ConvAlgorithm::winograd_f4;
    throw Error("MTAG_CONV_ALGO", "'" + s + "' is not one of auto, gemm, winograd_f2, winograd_f4");
}

// The batch end to end (concat_winograd_tile): x (n, c, w) -> xc (c, n * seg), sample b's row at
// b * seg + pad_left, zeros in each sample's own padding (seg = pad_left + w + pad_right).
void pack_end_to_end(const float* x, std::int64_t n, std::int64_t c, std::int64_t w, std::int64_t pad_left,
                     std::int64_t seg, float* xc) {
    parallel_for(c, 8, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch) {
            float* row = xc + ch * n * seg;
            std::fill(row, row + n * seg, 0.0f);
            for (std::int64_t b = 0; b < n; ++b)
                std::memcpy(row + b * seg + pad_left, x + (b * c + ch) * w, static_cast<std::size_t>(w) * sizeof(float));
        }
    });
}

// The inverse selection: y (n, c, w) = yc (c, len)[b * seg + offset + j] for j < w.
void unpack_end_to_end(const float* yc, std::int64_t len, std::int64_t n, std::int64_t c, std::int64_t w,
                       std::int64_t offset, std::int64_t seg, float* y) {
    parallel_for(c, 8, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t ch = c0; ch < c1; ++ch)
            for (std::int64_t b = 0; b < n; ++b)
                std::memcpy(y + (b * c + ch) * w, yc + ch * len + b * seg + offset,
                            static_cast<std::size_t>(w) * sizeof(float));
    });
}

// The transformed Winograd weights of one call (forward, or with flip the input gradient's): a tensor freed
// when the call ends, so the storage cache hands its block to the next layer. Kept per layer, they held 4x
// (F(4x4,3x3)) every Winograd layer's weights for the model's lifetime: 50 MB for fcn4, in every tagging session.
Tensor packed_weights(winograd::Tile tile, const float* w, std::int64_t c_out, std::int64_t c_in, bool flip) {
    Tensor u = Tensor::uninitialized({static_cast<std::int64_t>(winograd::packed_weight_size(tile, c_out, c_in))});
    winograd::transform_weights(tile, w, c_out, c_in, flip, u.data());
    return u;
}

}  // namespace

ConvBase::ConvBase(const ConvGeometry& geometry, bool bias, const Shape& weight_shape)
    : m_geo(geometry), m_weight(register_parameter("weight", weight_shape)) {
    init_blas();
    if (bias) m_bias = &register_parameter("bias", {geometry.c_out}, true);
    m_path = choose_path();
    m_algorithm = default_algorithm();
}

std::optional<winograd::Tile> ConvBase::winograd_tile(std::int64_t h, std::int64_t w) const {
    const ConvGeometry& g = m_geo;
    if (m_algorithm == ConvAlgorithm::gemm) return std::nullopt;
    if (g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1) return std::nullopt;
    const bool two_d = g.kh == 3 && g.kw == 3;
    const bool taps3 = g.kh == 1 && g.kw == 3, taps4 = g.kh == 1 && g.kw == 4;
    if (!two_d && !taps3 && !taps4) return std::nullopt;
    if (g.out_h(h) < 1 || g.out_w(w) < 1) return std::nullopt;
    if (m_algorithm == ConvAlgorithm::automatic) {
        // Few channels make short GEMMs (K = C_in) where the transforms dominate; without the AVX-512
        // micro-kernel OpenBLAS's GEMM is faster than the portable kernel.
        if (!microkernel::fast() || g.c_in < 8 || g.c_out < 8) return std::nullopt;
        // Tiles are not shared across samples: a map of fewer tiles than one GEMM panel (32) would
        // leave lanes idle, where the GEMM path groups samples instead. Smaller tiles first fill the panel.
        const auto tiles = [&](std::int64_t m) {
            return (two_d ? (g.out_h(h) + m - 1) / m : g.out_h(h)) * ((g.out_w(w) + m - 1) / m);
        };
        // F(3,4) halves the multiplies, which pays for up to a quarter of the panel's lanes left idle
        // (cnn1d's first layer: 91 outputs, 31 tiles).
        if (taps4) return tiles(3) >= microkernel::nr * 3 / 4 ? std::optional(winograd::Tile::f3_4) : std::nullopt;
        if (tiles(4) >= microkernel::nr) return two_d ? winograd::Tile::f4x4_3x3 : winograd::Tile::f4_3;
        if (tiles(2) >= microkernel::nr) return two_d ? winograd::Tile::f2x2_3x3 : winograd::Tile::f2_3;
        return std::nullopt;
    }
    if (taps4) return winograd::Tile::f3_4;  // the one tile for 4 taps, whichever width was asked for
    const bool f4 = m_algorithm == ConvAlgorithm::winograd_f4;
    if (two_d) return f4 ? winograd::Tile::f4x4_3x3 : winograd::Tile::f2x2_3x3;
    return f4 ? winograd::Tile::f4_3 : winograd::Tile::f2_3;
}

std::optional<winograd::Tile> ConvBase::concat_winograd_tile(std::int64_t w) const {
    const ConvGeometry& g = m_geo;
    // Chosen from the layer's shape alone, never from the batch size: a clip then gets bit-identical
    // outputs alone or in any batch (tagging one file must equal tagging it among others).
    if (m_algorithm != ConvAlgorithm::automatic || g.kh != 1 || g.sw != 1 || g.dw != 1 || g.out_w(w) < 1)
        return std::nullopt;
    if (g.kw != 3 && g.kw != 4) return std::nullopt;
    if (!microkernel::fast() || g.c_in < 8 || g.c_out < 8) return std::nullopt;
    const winograd::Tile tile = g.kw == 4 ? winograd::Tile::f3_4 : winograd::Tile::f4_3;
    // Winograd halves the multiplies, so it pays while most computed outputs are wanted: cnn1d's second
    // and third layers (19 of 24 and 6 of 9) qualify.
    if (3 * g.out_w(w) < 2 * concat_segment(tile, w)) return std::nullopt;
    return tile;
}

std::int64_t ConvBase::concat_segment(winograd::Tile tile, std::int64_t w) const {
    // Whole tiles of wanted outputs plus the k - 1 inputs their last tile reads, rounded up to whole tiles:
    // every tile with wanted outputs starts at the same place in its sample and reads only that sample
    // (its data and zeros), so its rounding does not depend on the neighbours.
    const std::int64_t m = tile == winograd::Tile::f3_4 ? 3 : 4;
    const std::int64_t need = std::max((m_geo.out_w(w) + m - 1) / m * m + m_geo.kw - 1, w + m_geo.pad_left);
    return (need + m - 1) / m * m;
}

winograd::Problem ConvBase::concat_problem(std::int64_t n, std::int64_t w) const {
    const ConvGeometry& g = m_geo;
    const std::int64_t len = n * concat_segment(*m_winograd, w);
    return {.c_in = g.c_in, .c_out = g.c_out, .h = 1, .w = len, .out_h = 1, .out_w = len - g.kw + 1};
}

direct_conv::Problem ConvBase::direct_problem(std::int64_t h, std::int64_t w) const {
    return {.c_in = m_geo.c_in,
            .c_out = m_geo.c_out,
            .h = h,
            .w = w,
            .pad_top = m_geo.pad_top,
            .pad_left = m_geo.pad_left,
            .out_h = m_geo.out_h(h),
            .out_w = m_geo.out_w(w)};
}

winograd::Problem ConvBase::winograd_problem(std::int64_t h, std::int64_t w, bool input_gradient) const {
    const ConvGeometry& g = m_geo;
    if (!input_gradient)
        return {.c_in = g.c_in,
                .c_out = g.c_out,
                .h = h,
                .w = w,
                .out_h = g.out_h(h),
                .out_w = g.out_w(w),
                .pad_top = g.pad_top,
                .pad_left = g.pad_left};
    // grad_x(i, j) = sum_(a,b) w(a, b) grad_y(i + pad_top - a, j + pad_left - b): a correlation of grad_y
    // with the flipped kernel and padding k - 1 - pad.
    return {.c_in = g.c_out,
            .c_out = g.c_in,
            .h = g.out_h(h),
            .w = g.out_w(w),
            .out_h = h,
            .out_w = w,
            .pad_top = g.kh - 1 - g.pad_top,
            .pad_left = g.kw - 1 - g.pad_left};
}

std::optional<polyphase::Problem> ConvBase::polyphase_problem(std::int64_t h, std::int64_t w) const {
    const ConvGeometry& g = m_geo;
    if (m_algorithm == ConvAlgorithm::gemm) return std::nullopt;
    if (g.kh != 3 || g.kw != 3 || g.sh != 2 || g.sw != 2 || g.dh != 1 || g.dw != 1) return std::nullopt;
    const polyphase::Problem p{.c_in = g.c_in,
                               .c_out = g.c_out,
                               .h = h,
                               .w = w,
                               .out_h = g.out_h(h),
                               .out_w = g.out_w(w),
                               .pad_top = g.pad_top,
                               .pad_left = g.pad_left};
    if (!polyphase::supported(p)) return std::nullopt;
    // As for stride-1 Winograd (winograd_tile): long enough GEMMs, a full panel of tiles per map, and
    // the AVX-512 micro-kernel. short_chunk_resnet's 3x3 stride-2 layers on 64x115 and 32x58 inputs
    // (220 and 60 tiles) qualify, the later 8x15 one (15 tiles) stays on the GEMM path.
    if (m_algorithm == ConvAlgorithm::automatic &&
        (!microkernel::fast() || g.c_in < 8 || g.c_out < 8 || polyphase::tiles_per_map(p) < microkernel::nr))
        return std::nullopt;
    return p;
}

double ConvBase::forward_flops(std::int64_t h, std::int64_t w) const {
    return 2.0 * static_cast<double>(m_geo.c_out) * static_cast<double>(m_geo.patch()) *
           static_cast<double>(m_geo.out_h(h)) * static_cast<double>(m_geo.out_w(w));
}

ConvBase::Path ConvBase::choose_path() const {
    const ConvGeometry& g = m_geo;
    const bool no_pad = g.pad_top == 0 && g.pad_bottom == 0 && g.pad_left == 0 && g.pad_right == 0;
    if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && no_pad) return Path::pointwise;
    // 3x3 over a map with few channels (first layer of a 2-D CNN): K = 9 * C_in is too short for GEMM.
    const auto pad01 = [](std::int64_t pad) { return pad == 0 || pad == 1; };
    if (g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.c_in <= 4 &&
        pad01(g.pad_top) && pad01(g.pad_bottom) && pad01(g.pad_left) && pad01(g.pad_right))
        return Path::direct3x3;
    // Non-overlapping 1-D windows (sample-level front end, e.g. k3 s3): the input itself, viewed as
    // (L_out, k) per channel, is the transposed unrolled matrix, so GEMM reads it in place.
    if (g.kh == 1 && g.sh == 1 && g.kw == g.sw && g.dw == 1 && no_pad && g.c_in <= 4)
        return Path::strided_patches;
    // 1-D, stride 1 (sample-level blocks, 1-D CNNs over mel bins): out = sum_j W_j x[shifted by j]; each
    // tap is a GEMM reading the input in place, no unrolled copy (used when the map has one row).
    if (g.kh == 1 && g.sh == 1 && g.sw == 1 && g.kw > 1 && g.c_in >= 16) return Path::shifted_taps;
    return Path::im2col;
}

std::int64_t ConvBase::tile_rows(std::int64_t out_h, std::int64_t out_w) const {
    const std::int64_t per_row = std::max<std::int64_t>(1, m_geo.patch() * out_w);
    return std::clamp<std::int64_t>(tile_budget / per_row, 1, out_h);
}

Tensor ConvBase::forward_map(const Tensor& x) {
    const ConvGeometry& g = m_geo;
    const std::int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
    const std::int64_t oh = g.out_h(h), ow = g.out_w(w);
    if (oh <= 0 || ow <= 0)
        throw Error("nn::" + type(), "input map " + dims(h, w) + " is smaller than the (dilated) kernel " +
                                         dims(g.dh * (g.kh - 1) + 1, g.dw * (g.kw - 1) + 1) +
                                         " after padding");
    m_input = saved_for_backward(x);
    // Training: a fresh output the conv does not keep, so it is freed as soon as the layers after it are
    // done with it in backward (a cached one would stay resident through backward). Eval: one reused buffer;
    // inference mode: a fresh one again, freed once the next layer has read it (nn/inference_mode.hpp).
    Tensor y = is_training() ? Tensor::uninitialized({n, g.c_out, oh, ow})
                             : output_buffer(m_output, {n, g.c_out, oh, ow});
    if (is_training()) m_output = Tensor();
    const std::int64_t hw = oh * ow, k = g.patch();
    const float* wt = m_weight.value.data();
    m_winograd = winograd_tile(h, w);
    m_concat = false;
    if (!m_winograd && h == 1) {
        m_winograd = concat_winograd_tile(w);
        m_concat = m_winograd.has_value();
    }
    m_direct = !m_winograd && m_path == Path::direct3x3 && m_algorithm != ConvAlgorithm::gemm;
    const std::optional<polyphase::Problem> phases = polyphase_problem(h, w);
    m_polyphase = phases.has_value();
    if (m_polyphase) polyphase::forward(*phases, n, x.data(), wt, y.data());
    if (m_direct) {
        direct_conv::forward(direct_problem(h, w), n, x.data(), wt, m_bias ? m_bias->value.data() : nullptr,
                             y.data());
        return y;
    }
    if (m_winograd) {
        const Tensor u = packed_weights(*m_winograd, wt, g.c_out, g.c_in, false);
        if (m_concat) {
            // One long map: (c_in, n * seg) in, (c_out, n * seg - k + 1) out, sample b's outputs at b * seg.
            // Samples are laid out seg apart: their padding, then zeros up to whole tiles (concat_segment).
            const winograd::Problem p = concat_problem(n, w);
            Tensor xc = Tensor::uninitialized({g.c_in, p.w});
            Tensor yc = Tensor::uninitialized({g.c_out, p.out_w});
            const std::int64_t seg = concat_segment(*m_winograd, w);
            pack_end_to_end(x.data(), n, g.c_in, w, g.pad_left, seg, xc.data());
            winograd::convolve(*m_winograd, p, 1, xc.data(), u.data(), yc.data());
            unpack_end_to_end(yc.data(), p.out_w, n, g.c_out, ow, 0, seg, y.data());
        } else {
            winograd::convolve(*m_winograd, winograd_problem(h, w, false), n, x.data(), u.data(), y.data());
        }
    }
    const bool shifted = !m_winograd && m_path == Path::shifted_taps && h == 1;
    if (shifted) {
        m_taps.resize(static_cast<std::size_t>(g.kw * g.c_out * g.c_in));
        shifted_taps::pack_weights(g, wt, m_taps.data());
    }
    const std::int64_t group = m_winograd || m_polyphase ? 1 : batch_group(n, hw);
    if (group > 1) {
        // Small maps: several samples side by side in one unrolled matrix, one GEMM with N = group * hw.
        float* col = scratch(static_cast<std::size_t>(k * group * hw), 0);
        float* tmp = scratch(static_cast<std::size_t>(g.c_out * group * hw), 1);
        for (std::int64_t b0 = 0; b0 < n; b0 += group) {
            const std::int64_t gs = std::min(group, n - b0), cols = gs * hw;
            for (std::int64_t s = 0; s < gs; ++s)
                im2col(g, x.data() + (b0 + s) * g.c_in * h * w, h, w, ow, 0, oh, col + s * hw, cols);
            gemm(CblasNoTrans, CblasNoTrans, static_cast<int>(g.c_out),
                        static_cast<int>(cols), static_cast<int>(k), 1.0f, wt, static_cast<int>(k), col,
                        static_cast<int>(cols), 0.0f, tmp, static_cast<int>(cols));
            for (std::int64_t s = 0; s < gs; ++s)
                for (std::int64_t c = 0; c < g.c_out; ++c)
                    std::memcpy(y.data() + ((b0 + s) * g.c_out + c) * hw, tmp + c * cols + s * hw,
                                static_cast<std::size_t>(hw) * sizeof(float));
        }
    }
    for (std::int64_t b = group > 1 || m_winograd || m_polyphase ? n : 0; b < n; ++b) {
        const float* xb = x.data() + b * g.c_in * h * w;
        float* yb = y.data() + b * g.c_out * hw;
        if (shifted) {
            shifted_taps::forward(g, m_taps.data(), xb, w, ow, yb);
        } else if (m_path == Path::pointwise) {
            gemm(CblasNoTrans, CblasNoTrans, static_cast<int>(g.c_out),
                        static_cast<int>(hw), static_cast<int>(k), 1.0f, wt, static_cast<int>(k), xb,
                        static_cast<int>(hw), 0.0f, yb, static_cast<int>(hw));
        } else if (m_path == Path::strided_patches) {
            strided_patches::forward(g, xb, h, w, ow, wt, m_bias ? m_bias->value.data() : nullptr, yb);
        } else {
            const std::int64_t rows = tile_rows(oh, ow);
            float* col = scratch(static_cast<std::size_t>(k * rows * ow));
            for (std::int64_t r0 = 0; r0 < oh; r0 += rows) {
                const std::int64_t r1 = std::min(oh, r0 + rows);
                const std::int64_t cols = (r1 - r0) * ow;
                im2col(g, xb, h, w, ow, r0, r1, col);
                gemm(CblasNoTrans, CblasNoTrans, static_cast<int>(g.c_out),
                            static_cast<int>(cols), static_cast<int>(k), 1.0f, wt, static_cast<int>(k), col,
                            static_cast<int>(cols), 0.0f, yb + r0 * ow, static_cast<int>(hw));
            }
        }
    }
    if (m_bias && (m_winograd || m_path != Path::strided_patches)) {  // the strided path adds it itself
        const float* bias = m_bias->value.data();
        parallel_for(n * g.c_out, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, hw)),
                     [&](std::int64_t p0, std::int64_t p1) {
                         for (std::int64_t p = p0; p < p1; ++p) {
                             float* row = y.data() + p * hw;
                             const float bv = bias[p % g.c_out];
                             for (std::int64_t i = 0; i < hw; ++i) row[i] += bv;
                         }
                     });
    }
    return y;
}

Tensor ConvBase::backward_accumulate(const Tensor& grad_output, Tensor into) {
    if (!m_input.defined()) throw Error("nn::" + type(), nothing_saved_message);
    // m_input is the (N, C_in, H, W) view of the input (Conv1d's with H = 1); `into` has the input's own shape.
    if (!into.defined() || into.size() != m_input.size() || into.dim(0) != m_input.dim(0))
        throw Error("nn::" + type() + "::backward_accumulate",
                    "the gradient to add into has shape " + into.shape().str() + ", expected the input's");
    const std::int64_t n = m_input.dim(0), h = m_input.dim(2), w = m_input.dim(3);
    if (static_cast<std::int64_t>(grad_output.size()) != n * m_geo.c_out * m_geo.out_h(h) * m_geo.out_w(w))
        throw Error("nn::" + type() + "::backward_accumulate",
                    "grad_output shape " + grad_output.shape().str() + " does not match the last output");
    Tensor view = into.view(m_input.shape());
    backward_map(grad_output.view({n, m_geo.c_out, m_geo.out_h(h), m_geo.out_w(w)}), &view);
    return into;
}

Tensor ConvBase::backward_map(const Tensor& gy, Tensor* into) {
    const ConvGeometry& g = m_geo;
    const Tensor& x = m_input;
    if (!x.defined())
        throw Error("nn::" + type(), nothing_saved_message);
    const std::int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
    const std::int64_t oh = g.out_h(h), ow = g.out_w(w), hw = oh * ow;
    if (!(gy.shape() == Shape{n, g.c_out, oh, ow}))
        throw Error("nn::" + type() + "::backward", "grad_output shape " + gy.shape().str() + ", expected " +
                                                        Shape{n, g.c_out, oh, ow}.str());
    // When the forward pass used Winograd, both gradients do too (the GEMM paths below are skipped).
    const bool fast = m_winograd || m_direct || m_polyphase;
    const bool need_w = m_weight.requires_grad && !fast;
    const bool need_x = input_grad() && !fast;
    Tensor gx;
    bool bias_done = false;
    if (m_direct) bias_done = direct_backward(x, gy, gx);
    // d loss / d input is a fresh tensor (not a cached one): the previous layer consumes it and it is freed
    // then, instead of one input-sized buffer per conv staying resident for the whole run.
    if (m_winograd) winograd_backward(x, gy, gx, into);
    if (m_polyphase) {
        if (input_grad()) gx = into ? *into : Tensor::uninitialized(x.shape());
        polyphase::backward(*polyphase_problem(h, w), n, x.data(), gy.data(), m_weight.value.data(),
                            m_weight.requires_grad ? m_weight.grad.data() : nullptr,
                            input_grad() ? gx.data() : nullptr, into != nullptr);
    }
    if (need_x) {
        gx = m_path == Path::pointwise ? Tensor::uninitialized(x.shape()) : Tensor(x.shape());
    }
    if (m_bias && m_bias->requires_grad && !bias_done) bias_backward(gy, n, hw);
    const bool shifted = m_path == Path::shifted_taps && h == 1;
    const std::int64_t group = fast ? 1 : batch_group(n, hw);
    if (shifted && need_w && group == 1)
        m_tap_grads.assign(static_cast<std::size_t>(g.kw * g.c_out * g.c_in), 0.0f);
    if (group > 1) grouped_gemm_backward(x, gy, group, need_w, need_x, gx);
    per_sample_backward(x, gy, group > 1 || fast ? n : 0, shifted, need_w, need_x, gx);
    if (shifted && need_w && group == 1)
        shifted_taps::add_unpacked_gradient(g, m_tap_grads.data(), m_weight.grad.data());
    // Backward is done with the input (one backward per forward, as BatchNorm): the producer's buffer can
    // be freed or reused now instead of staying alive until the next forward.
    m_input = Tensor();
    if (into && gx.defined() && gx.data() != into->data()) {
        // A path that computed the gradient apart: added now (into + gx, the same sum as gx + into).
        nn::add_into(into->data(), gx.data(), static_cast<std::int64_t>(gx.size()));
        gx = *into;
    }
    return gx;
}

bool ConvBase::direct_backward(const Tensor& x, const Tensor& gy, Tensor& gx) {
    const std::int64_t n = x.dim(0);
    const direct_conv::Problem p = direct_problem(x.dim(2), x.dim(3));
    float* gb = m_bias && m_bias->requires_grad ? m_bias->grad.data() : nullptr;
    bool fused = false;
    if (input_grad()) gx = Tensor::uninitialized(x.shape());
    if (m_weight.requires_grad)
        fused = direct_conv::fused_backward(p, n, x.data(), gy.data(), m_weight.value.data(),
                                            m_weight.grad.data(), gb, input_grad() ? gx.data() : nullptr);
    if (!fused && m_weight.requires_grad)
        direct_conv::weight_gradient(p, n, x.data(), gy.data(), m_weight.grad.data());
    if (!fused && input_grad())
        direct_conv::input_gradient(p, n, gy.data(), m_weight.value.data(), gx.data());
    return fused;
}

void ConvBase::winograd_backward(const Tensor& x, const Tensor& gy, Tensor& gx, Tensor* into) {
    const ConvGeometry& g = m_geo;
    const std::int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
    if (m_concat) {
        concat_winograd_backward(x, gy, gx);
        return;
    }
    if (input_grad()) {
        // With `into`, each element's one output value is added to it (convolve's accumulate).
        gx = into ? *into : Tensor::uninitialized(x.shape());
        const Tensor u = packed_weights(*m_winograd, m_weight.value.data(), g.c_in, g.c_out, true);
        winograd::convolve(*m_winograd, winograd_problem(h, w, true), n, gy.data(), u.data(), gx.data(),
                           into != nullptr);
    }
    if (m_weight.requires_grad)
        winograd::weight_gradient(*m_winograd, winograd_problem(h, w, false), n, x.data(), gy.data(),
                                  m_weight.grad.data());
}

void ConvBase::concat_winograd_backward(const Tensor& x, const Tensor& gy, Tensor& gx) {
    const ConvGeometry& g = m_geo;
    const std::int64_t n = x.dim(0), w = x.dim(3), ow = g.out_w(w), seg = concat_segment(*m_winograd, w);
    const winograd::Problem p = concat_problem(n, w);
    // The output gradient end to end, zero at the k - 1 dropped outputs after each sample: they then add
    // nothing to the neighbouring sample's input gradient or to the weight gradient.
    Tensor gyc = Tensor::uninitialized({g.c_out, p.out_w});
    parallel_for(g.c_out, 8, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t c = c0; c < c1; ++c) {
            float* row = gyc.data() + c * p.out_w;
            std::fill(row, row + p.out_w, 0.0f);
            for (std::int64_t b = 0; b < n; ++b)
                std::memcpy(row + b * seg, gy.data() + (b * g.c_out + c) * ow, static_cast<std::size_t>(ow) * sizeof(float));
        }
    });
    if (input_grad()) {
        // The full correlation of the long output gradient with the flipped kernel (padding k - 1).
        gx = Tensor::uninitialized(x.shape());
        Tensor gxc = Tensor::uninitialized({g.c_in, p.w});
        const Tensor u = packed_weights(*m_winograd, m_weight.value.data(), g.c_in, g.c_out, true);
        const winograd::Problem pi{.c_in = g.c_out, .c_out = g.c_in, .h = 1, .w = p.out_w, .out_h = 1,
                                   .out_w = p.w, .pad_top = 0, .pad_left = g.kw - 1};
        winograd::convolve(*m_winograd, pi, 1, gyc.data(), u.data(), gxc.data());
        unpack_end_to_end(gxc.data(), p.w, n, g.c_in, w, g.pad_left, seg, gx.data());
    }
    if (m_weight.requires_grad) {
        Tensor xc = Tensor::uninitialized({g.c_in, p.w});
        pack_end_to_end(x.data(), n, g.c_in, w, g.pad_left, seg, xc.data());
        winograd::weight_gradient(*m_winograd, p, 1, xc.data(), gyc.data(), m_weight.grad.data());
    }
}

void ConvBase::bias_backward(const Tensor& gy, std::int64_t n, std::int64_t hw) {
    const ConvGeometry& g = m_geo;
    // Per-channel sums in a fixed order (independent of the thread count).
    float* gb = m_bias->grad.data();
    parallel_for(g.c_out, 1, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t c = c0; c < c1; ++c) {
            double s = 0.0;
            for (std::int64_t b = 0; b < n; ++b) s += lane_sum(gy.data() + (b * g.c_out + c) * hw, hw);
            gb[c] += static_cast<float>(s);
        }
    });
}

void ConvBase::grouped_gemm_backward(const Tensor& x, const Tensor& gy, std::int64_t group, bool need_w,
                                     bool need_x, Tensor& gx) {
    const ConvGeometry& g = m_geo;
    const std::int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
    const std::int64_t oh = g.out_h(h), ow = g.out_w(w), hw = oh * ow, k = g.patch();
    const float* wt = m_weight.value.data();
    float* gw = m_weight.grad.data();
    const int ik = static_cast<int>(k), ico = static_cast<int>(g.c_out);
    float* col = scratch(static_cast<std::size_t>(k * group * hw), 0);
    float* gyg = scratch(static_cast<std::size_t>(g.c_out * group * hw), 1);
    for (std::int64_t b0 = 0; b0 < n; b0 += group) {
        const std::int64_t gs = std::min(group, n - b0);
        const int cols = static_cast<int>(gs * hw);
        for (std::int64_t s = 0; s < gs; ++s)
            for (std::int64_t c = 0; c < g.c_out; ++c)
                std::memcpy(gyg + c * cols + s * hw, gy.data() + ((b0 + s) * g.c_out + c) * hw,
                            static_cast<std::size_t>(hw) * sizeof(float));
        if (need_w) {
            for (std::int64_t s = 0; s < gs; ++s)
                im2col(g, x.data() + (b0 + s) * g.c_in * h * w, h, w, ow, 0, oh, col + s * hw, cols);
            gemm(CblasNoTrans, CblasTrans, ico, ik, cols, 1.0f, gyg, cols, col,
                        cols, 1.0f, gw, ik);
        }
        if (need_x) {
            gemm(CblasTrans, CblasNoTrans, ik, cols, ico, 1.0f, wt, ik, gyg, cols,
                        0.0f, col, cols);
            for (std::int64_t s = 0; s < gs; ++s)
                col2im(g, col + s * hw, h, w, ow, 0, oh, gx.data() + (b0 + s) * g.c_in * h * w, cols);
        }
    }
}

void ConvBase::per_sample_backward(const Tensor& x, const Tensor& gy, std::int64_t first, bool shifted,
                                   bool need_w, bool need_x, Tensor& gx) {
    const ConvGeometry& g = m_geo;
    const std::int64_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
    const std::int64_t oh = g.out_h(h), ow = g.out_w(w), hw = oh * ow, k = g.patch();
    const float* wt = m_weight.value.data();
    float* gw = m_weight.grad.data();
    const int ik = static_cast<int>(k), ihw = static_cast<int>(hw), ico = static_cast<int>(g.c_out);
    for (std::int64_t b = first; b < n; ++b) {
        const float* xb = x.data() + b * g.c_in * h * w;
        const float* gyb = gy.data() + b * g.c_out * hw;
        float* gxb = need_x ? gx.data() + b * g.c_in * h * w : nullptr;
        if (shifted) {
            shifted_taps::backward(g, m_taps.data(), xb, gyb, w, ow, need_w ? m_tap_grads.data() : nullptr,
                                   gxb);
        } else if (m_path == Path::pointwise) {
            if (need_w)
                gemm(CblasNoTrans, CblasTrans, ico, ik, ihw, 1.0f, gyb, ihw, xb, ihw,
                            1.0f, gw, ik);
            if (need_x)
                gemm(CblasTrans, CblasNoTrans, ik, ihw, ico, 1.0f, wt, ik, gyb, ihw,
                            0.0f, gxb, ihw);
        } else if (m_path == Path::strided_patches) {
            strided_patches::backward(g, xb, gyb, h, w, ow, wt, need_w ? gw : nullptr, gxb);
        } else {
            const std::int64_t rows = tile_rows(oh, ow);
            float* col = scratch(static_cast<std::size_t>(k * rows * ow), 0);
            for (std::int64_t r0 = 0; r0 < oh; r0 += rows) {
                const std::int64_t r1 = std::min(oh, r0 + rows);
                const int cols = static_cast<int>((r1 - r0) * ow);
                const float* gyt = gyb + r0 * ow;
                if (need_w) {
                    im2col(g, xb, h, w, ow, r0, r1, col);
                    gemm(CblasNoTrans, CblasTrans, ico, ik, cols, 1.0f, gyt, ihw, col,
                                cols, 1.0f, gw, ik);
                }
                if (need_x) {
                    gemm(CblasTrans, CblasNoTrans, ik, cols, ico, 1.0f, wt, ik, gyt,
                                ihw, 0.0f, col, cols);
                    col2im(g, col, h, w, ow, r0, r1, gxb);
                }
            }
        }
    }
}

std::int64_t ConvBase::batch_group(std::int64_t n, std::int64_t hw) const {
    // Maps of fewer than 2048 output positions make thin GEMMs; group samples up to ~2048 columns while
    // the unrolled matrix stays within 8 MB. Pointwise and strided-patch paths read the input in place
    // and gain nothing from grouping.
    if (n < 2 || hw >= 2048 || m_path == Path::pointwise || m_path == Path::strided_patches) return 1;
    const std::int64_t by_width = (2048 + hw - 1) / hw;
    const std::int64_t by_memory =
        std::max<std::int64_t>(1, (std::int64_t{1} << 21) / std::max<std::int64_t>(1, m_geo.patch() * hw));
    return std::max<std::int64_t>(1, std::min({n, by_width, by_memory}));
}

namespace {

void check_positive(const std::string& layer, const std::string& name, std::int64_t v) {
    if (v < 1) throw Error("nn::" + layer + " options", name + " = " + std::to_string(v) + ", expected >= 1");
}

// Total 'same' padding split like PyTorch: the smaller half before, the larger after.
void same_padding(std::int64_t k, std::int64_t d, std::int64_t& before, std::int64_t& after) {
    const std::int64_t total = d * (k - 1);
    before = total / 2;
    after = total - before;
}

ConvGeometry geometry_2d(const Conv2dOptions& o) {
    const std::string layer = "Conv2d";
    check_positive(layer, "in_channels", o.in_channels);
    check_positive(layer, "out_channels", o.out_channels);
    for (int a = 0; a < 2; ++a) {
        check_positive(layer, "kernel_size", o.kernel_size[static_cast<std::size_t>(a)]);
        check_positive(layer, "stride", o.stride[static_cast<std::size_t>(a)]);
        check_positive(layer, "dilation", o.dilation[static_cast<std::size_t>(a)]);
        if (o.padding[static_cast<std::size_t>(a)] < 0)
            throw Error(
                "nn::Conv2d options",
                "padding = " + std::to_string(o.padding[static_cast<std::size_t>(a)]) + ", expected >= 0");
    }
    if (o.padding_same && (o.stride[0] != 1 || o.stride[1] != 1))
        throw Error("nn::Conv2d options", "padding='same' needs stride 1 (as in PyTorch)");
    ConvGeometry g;
    g.c_in = o.in_channels;
    g.c_out = o.out_channels;
    g.kh = o.kernel_size[0];
    g.kw = o.kernel_size[1];
    g.sh = o.stride[0];
    g.sw = o.stride[1];
    g.dh = o.dilation[0];
    g.dw = o.dilation[1];
    if (o.padding_same) {
        same_padding(g.kh, g.dh, g.pad_top, g.pad_bottom);
        same_padding(g.kw, g.dw, g.pad_left, g.pad_right);
    } else {
        g.pad_top = g.pad_bottom = o.padding[0];
        g.pad_left = g.pad_right = o.padding[1];
    }
    return g;
}

ConvGeometry geometry_1d(const Conv1dOptions& o) {
    const std::string layer = "Conv1d";
    check_positive(layer, "in_channels", o.in_channels);
    check_positive(layer, "out_channels", o.out_channels);
    check_positive(layer, "kernel_size", o.kernel_size);
    check_positive(layer, "stride", o.stride);
    check_positive(layer, "dilation", o.dilation);
    if (o.padding < 0)
        throw Error("nn::Conv1d options", "padding = " + std::to_string(o.padding) + ", expected >= 0");
    if (o.padding_same && o.stride != 1)
        throw Error("nn::Conv1d options", "padding='same' needs stride 1 (as in PyTorch)");
    ConvGeometry g;
    g.c_in = o.in_channels;
    g.c_out = o.out_channels;
    g.kw = o.kernel_size;
    g.sw = o.stride;
    g.dw = o.dilation;
    if (o.padding_same)
        same_padding(g.kw, g.dw, g.pad_left, g.pad_right);
    else
        g.pad_left = g.pad_right = o.padding;
    return g;
}

void check_input(const std::string& layer, const Tensor& x, int rank, std::int64_t channels) {
    if (x.rank() != rank || x.dim(1) != channels) {
        const std::string expected = rank == 4 ? "(N, " + std::to_string(channels) + ", H, W)"
                                               : "(N, " + std::to_string(channels) + ", L)";
        throw Error("nn::" + layer, "input shape " + x.shape().str() + ", expected " + expected);
    }
}

// The JSON config of Conv1d and Conv2d: the same keys, named as in torch.nn.Conv1d / Conv2d.
template <class Options>
nlohmann::json conv_config(const std::string& type, const Options& o) {
    return {{"type", type},
            {"in_channels", o.in_channels},
            {"out_channels", o.out_channels},
            {"kernel_size", o.kernel_size},
            {"stride", o.stride},
            {"padding", o.padding},
            {"dilation", o.dilation},
            {"padding_same", o.padding_same},
            {"bias", o.bias}};
}

}  // namespace

Conv2d::Conv2d(const Conv2dOptions& options)
    : ConvBase(geometry_2d(options), options.bias,
               {options.out_channels, options.in_channels, options.kernel_size[0], options.kernel_size[1]}),
      m_options(options) {}

Tensor Conv2d::forward(const Tensor& input) {
    check_input("Conv2d", input, 4, m_geo.c_in);
    return forward_map(input);
}

Tensor Conv2d::backward(const Tensor& grad_output) {
    return backward_map(grad_output);
}

nlohmann::json Conv2d::config() const {
    return conv_config(type(), m_options);
}

Conv1d::Conv1d(const Conv1dOptions& options)
    : ConvBase(geometry_1d(options), options.bias,
               {options.out_channels, options.in_channels, options.kernel_size}),
      m_options(options) {}

Tensor Conv1d::forward(const Tensor& input) {
    check_input("Conv1d", input, 3, m_geo.c_in);
    Tensor y = forward_map(input.view({input.dim(0), input.dim(1), 1, input.dim(2)}));
    return y.view({y.dim(0), y.dim(1), y.dim(3)});
}

Tensor Conv1d::backward(const Tensor& grad_output) {
    Tensor gx =
        backward_map(grad_output.view({grad_output.dim(0), grad_output.dim(1), 1, grad_output.dim(2)}));
    return gx.defined() ? gx.view({gx.dim(0), gx.dim(1), gx.dim(3)}) : gx;
}

nlohmann::json Conv1d::config() const {
    return conv_config(type(), m_options);
}

}  // namespace mtag::nn
