#include "nn/layers/polyphase_conv.hpp"

#include "nn/tensor.hpp"
#include "nn/threads.hpp"

#include <algorithm>
#include <array>

namespace mtag::nn::polyphase {

namespace {

// Samples whose phase copies are made at once: about 8 MB of them (whole samples, at least one), so the
// copies stay small next to the activations while the Winograd calls still see several samples.
constexpr std::int64_t chunk_floats = std::int64_t{1} << 21;

// One axis of one phase: the taps a0, a0 + 2 (taps = 2) or a0 alone (taps = 1) of the 3-tap kernel read
// the input positions of parity rho, a map of len positions, as a stride-1 correlation with padding pad.
struct Axis {
    int a0 = 0, taps = 1;
    std::int64_t len = 0, pad = 0;
};

Axis make_axis(std::int64_t length, std::int64_t pad, int rho) {
    Axis a;
    a.a0 = static_cast<int>((pad + rho) % 2);
    a.taps = a.a0 == 0 ? 2 : 1;
    a.pad = -(a.a0 - pad - rho) / 2;  // the first tap reads phase position i - pad for output i
    a.len = (length - rho + 1) / 2;
    return a;
}

struct Phase {
    Axis row, col;
    winograd::Tile tile = winograd::Tile::f3x3_1x1;
    winograd::Problem forward;   // x_rs -> y
    winograd::Problem gradient;  // grad_y -> grad x_rs (the flipped sub-kernel)
    std::int64_t offset = 0;     // of this phase's floats in a chunk buffer, per sample of the chunk
    std::int64_t size() const { return forward.c_in * row.len * col.len; }
    std::int64_t taps() const { return row.taps * col.taps; }
};

winograd::Tile tile_of(int kh, int kw) {
    if (kh == 2) return kw == 2 ? winograd::Tile::f3x3_2x2 : winograd::Tile::f3x3_2x1;
    return kw == 2 ? winograd::Tile::f3x3_1x2 : winograd::Tile::f3x3_1x1;
}

std::array<Phase, 4> make_phases(const Problem& p) {
    std::array<Phase, 4> phases;
    std::int64_t offset = 0;
    for (int k = 0; k < 4; ++k) {
        Phase& ph = phases[static_cast<std::size_t>(k)];
        ph.row = make_axis(p.h, p.pad_top, k / 2);
        ph.col = make_axis(p.w, p.pad_left, k % 2);
        ph.tile = tile_of(ph.row.taps, ph.col.taps);
        ph.forward = {.c_in = p.c_in,
                      .c_out = p.c_out,
                      .h = ph.row.len,
                      .w = ph.col.len,
                      .out_h = p.out_h,
                      .out_w = p.out_w,
                      .pad_top = ph.row.pad,
                      .pad_left = ph.col.pad};
        ph.gradient = {.c_in = p.c_out,
                       .c_out = p.c_in,
                       .h = p.out_h,
                       .w = p.out_w,
                       .out_h = ph.row.len,
                       .out_w = ph.col.len,
                       .pad_top = ph.row.taps - 1 - ph.row.pad,
                       .pad_left = ph.col.taps - 1 - ph.col.pad};
        ph.offset = offset;
        offset += ph.size();
    }
    return phases;
}

// The phase's sub-kernel (c_out, c_in, taps_r, taps_c) out of the 3x3 weights.
std::vector<float> sub_kernel(const Phase& ph, const float* weight, std::int64_t pairs) {
    std::vector<float> sub(static_cast<std::size_t>(pairs * ph.taps()));
    for (std::int64_t q = 0; q < pairs; ++q)
        for (int t = 0; t < ph.row.taps; ++t)
            for (int u = 0; u < ph.col.taps; ++u)
                sub[static_cast<std::size_t>((q * ph.row.taps + t) * ph.col.taps + u)] =
                    weight[q * 9 + (ph.row.a0 + 2 * t) * 3 + ph.col.a0 + 2 * u];
    return sub;
}

// Calls f(plane, phase, its buffer) for every channel plane of the cn samples at x, in parallel; a phase's
// buffer is buf[offset * cn + (sample * c_in + c) * len_r * len_s ...].
template <class T, class F>
void for_planes(const Problem& p, const std::array<Phase, 4>& phases, std::int64_t cn, T* buf, F&& f) {
    parallel_for(cn * p.c_in, 1, [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i)
            for (int k = 0; k < 4; ++k) {
                const Phase& ph = phases[static_cast<std::size_t>(k)];
                f(i * p.h * p.w, k / 2, k % 2, ph, buf + ph.offset * cn + i * ph.row.len * ph.col.len);
            }
    });
}

// The phases of the cn samples at x into buf: phase (r, s) holds x(sample, c, 2a + r, 2b + s).
void split(const Problem& p, const std::array<Phase, 4>& phases, std::int64_t cn, const float* x, float* buf) {
    for_planes(p, phases, cn, buf, [&](std::int64_t plane, int r, int s, const Phase& ph, float* q) {
        for (std::int64_t a = 0; a < ph.row.len; ++a) {
            const float* row = x + plane + (2 * a + r) * p.w + s;
            float* dst = q + a * ph.col.len;
            for (std::int64_t b = 0; b < ph.col.len; ++b) dst[b] = row[2 * b];
        }
    });
}

// The inverse of split: every element of the cn samples at x is written (with accumulate, added to).
void merge(const Problem& p, const std::array<Phase, 4>& phases, std::int64_t cn, const float* buf, float* x,
           bool accumulate) {
    for_planes(p, phases, cn, buf, [&](std::int64_t plane, int r, int s, const Phase& ph,
                                                           const float* q) {
        for (std::int64_t a = 0; a < ph.row.len; ++a) {
            float* row = x + plane + (2 * a + r) * p.w + s;
            const float* src = q + a * ph.col.len;
            if (accumulate)
                for (std::int64_t b = 0; b < ph.col.len; ++b) row[2 * b] += src[b];
            else
                for (std::int64_t b = 0; b < ph.col.len; ++b) row[2 * b] = src[b];
        }
    });
}

// The phase's transformed weights, as a tensor: freed at the end of the call into the storage cache, whose
// blocks the next layer takes again (std::vector buffers were mapped and faulted in afresh on every call, and
// came on top of the activations at a training step's peak).
Tensor packed(winograd::Tile tile, std::int64_t c_out, std::int64_t c_in) {
    return Tensor::uninitialized({static_cast<std::int64_t>(winograd::packed_weight_size(tile, c_out, c_in))});
}

std::int64_t chunk_samples(const Problem& p, std::int64_t n) {
    return std::clamp<std::int64_t>(chunk_floats / std::max<std::int64_t>(1, p.c_in * p.h * p.w), 1, n);
}

}  // namespace

bool supported(const Problem& p) {
    const auto pad01 = [](std::int64_t pad) { return pad == 0 || pad == 1; };
    return p.c_in >= 1 && p.c_out >= 1 && p.h >= 2 && p.w >= 2 && p.out_h >= 1 && p.out_w >= 1 &&
           pad01(p.pad_top) && pad01(p.pad_left);
}

std::int64_t tiles_per_map(const Problem& p) {
    return ((p.out_h + 2) / 3) * ((p.out_w + 2) / 3);
}

void forward(const Problem& p, std::int64_t n, const float* x, const float* weight, float* y) {
    const std::array<Phase, 4> phases = make_phases(p);
    std::array<Tensor, 4> u;
    for (std::size_t k = 0; k < 4; ++k) {
        const std::vector<float> sub = sub_kernel(phases[k], weight, p.c_out * p.c_in);
        u[k] = packed(phases[k].tile, p.c_out, p.c_in);
        winograd::transform_weights(phases[k].tile, sub.data(), p.c_out, p.c_in, false, u[k].data());
    }
    const std::int64_t chunk = chunk_samples(p, n);
    Tensor buf = Tensor::uninitialized({chunk * p.c_in * p.h * p.w});
    for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
        const std::int64_t cn = std::min(chunk, n - s0);
        split(p, phases, cn, x + s0 * p.c_in * p.h * p.w, buf.data());
        float* ys = y + s0 * p.c_out * p.out_h * p.out_w;
        for (std::size_t k = 0; k < 4; ++k)
            winograd::convolve(phases[k].tile, phases[k].forward, cn, buf.data() + phases[k].offset * cn,
                               u[k].data(), ys, k > 0);
    }
}

void backward(const Problem& p, std::int64_t n, const float* x, const float* grad_y, const float* weight,
              float* grad_w, float* grad_x, bool accumulate_x) {
    const std::array<Phase, 4> phases = make_phases(p);
    std::array<Tensor, 4> u;                 // flipped sub-kernels, transformed (input gradient)
    std::array<std::vector<float>, 4> dsub;  // sub-kernel gradients (weight gradient)
    for (std::size_t k = 0; k < 4; ++k) {
        if (grad_x) {
            const std::vector<float> sub = sub_kernel(phases[k], weight, p.c_out * p.c_in);
            u[k] = packed(phases[k].tile, p.c_in, p.c_out);
            winograd::transform_weights(phases[k].tile, sub.data(), p.c_in, p.c_out, true, u[k].data());
        }
        if (grad_w) dsub[k].assign(static_cast<std::size_t>(p.c_out * p.c_in * phases[k].taps()), 0.0f);
    }
    const std::int64_t chunk = chunk_samples(p, n);
    Tensor buf = Tensor::uninitialized({chunk * p.c_in * p.h * p.w});
    for (std::int64_t s0 = 0; s0 < n; s0 += chunk) {
        const std::int64_t cn = std::min(chunk, n - s0);
        const float* gys = grad_y + s0 * p.c_out * p.out_h * p.out_w;
        if (grad_w) {
            split(p, phases, cn, x + s0 * p.c_in * p.h * p.w, buf.data());
            for (std::size_t k = 0; k < 4; ++k)
                winograd::weight_gradient(phases[k].tile, phases[k].forward, cn, buf.data() + phases[k].offset * cn,
                                          gys, dsub[k].data());
        }
        if (grad_x) {
            for (std::size_t k = 0; k < 4; ++k)
                winograd::convolve(phases[k].tile, phases[k].gradient, cn, gys, u[k].data(),
                                   buf.data() + phases[k].offset * cn);
            merge(p, phases, cn, buf.data(), grad_x + s0 * p.c_in * p.h * p.w, accumulate_x);
        }
    }
    if (!grad_w) return;
    for (std::size_t k = 0; k < 4; ++k) {
        const Phase& ph = phases[k];
        for (std::int64_t q = 0; q < p.c_out * p.c_in; ++q)
            for (int t = 0; t < ph.row.taps; ++t)
                for (int v = 0; v < ph.col.taps; ++v)
                    grad_w[q * 9 + (ph.row.a0 + 2 * t) * 3 + ph.col.a0 + 2 * v] +=
                        dsub[k][static_cast<std::size_t>((q * ph.row.taps + t) * ph.col.taps + v)];
    }
}

}  // namespace mtag::nn::polyphase
