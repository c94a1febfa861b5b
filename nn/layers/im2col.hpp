#pragma once
// Unrolling (im2col) and its adjoint (col2im) for convolutions, over tiles of output rows.
// Layout: x is one sample (C_in, H, W) row-major; col is (C_in*kH*kW, positions) with the patch index
// (c, i, j) -> (c*kH + i)*kW + j, the order of the flattened weight (C_out, C_in, kH, kW).
// ref: Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks for document
// processing".
#include <cstdint>

namespace mtag::nn {

// The geometry shared by both layers: 1-D convolutions run as 2-D ones over a (1, L) map.
struct ConvGeometry {
    std::int64_t c_in = 0, c_out = 0;
    std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;

    std::int64_t out_h(std::int64_t h) const {
        return (h + pad_top + pad_bottom - dh * (kh - 1) - 1) / sh + 1;
    }
    std::int64_t out_w(std::int64_t w) const {
        return (w + pad_left + pad_right - dw * (kw - 1) - 1) / sw + 1;
    }
    // Rows of the unrolled (im2col) matrix: C_in * kH * kW.
    std::int64_t patch() const { return c_in * kh * kw; }
};

// Unrolls output rows [oh0, oh1) of one sample x (C_in, H, W) into col (patch, (oh1-oh0)*out_w); zero
// padding is written explicitly. `ld` is the distance between rows of col (0: packed); a larger ld lets
// several samples share one unrolled matrix side by side. Parallel over patch rows on the engine's pool.
void im2col(const ConvGeometry& g, const float* x, std::int64_t h, std::int64_t w, std::int64_t out_w,
            std::int64_t oh0, std::int64_t oh1, float* col, std::int64_t ld = 0);

// Adds col back into dx (C_in, H, W): the adjoint of im2col. Parallel over input channels, so no two
// threads write the same element and the order of the sums does not depend on the thread count.
void col2im(const ConvGeometry& g, const float* col, std::int64_t h, std::int64_t w, std::int64_t out_w,
            std::int64_t oh0, std::int64_t oh1, float* dx, std::int64_t ld = 0);

}  // namespace mtag::nn
