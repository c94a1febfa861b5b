#include "nn/layers/im2col.hpp"

#include "nn/threads.hpp"

#include <algorithm>
#include <cstring>

namespace mtag::nn {

namespace {

// Output positions ow in [0, out_w) whose input column ow*sw - pad + off falls inside [0, w).
void valid_range(std::int64_t out_w, std::int64_t w, std::int64_t stride, std::int64_t start,
                 std::int64_t& lo, std::int64_t& hi) {
    // need 0 <= ow*stride + start < w
    lo = start >= 0 ? 0 : (-start + stride - 1) / stride;
    hi = w - start <= 0 ? 0 : (w - start + stride - 1) / stride;
    lo = std::min(lo, out_w);
    hi = std::clamp(hi, lo, out_w);
}

}  // namespace

void im2col(const ConvGeometry& g, const float* x, std::int64_t h, std::int64_t w, std::int64_t out_w,
            std::int64_t oh0, std::int64_t oh1, float* col, std::int64_t ld) {
    const std::int64_t cols = ld ? ld : (oh1 - oh0) * out_w;
    parallel_for(g.patch(), 4, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t j = r % g.kw, i = (r / g.kw) % g.kh, c = r / (g.kw * g.kh);
            const float* xc = x + c * h * w;
            float* out = col + r * cols;
            const std::int64_t start = j * g.dw - g.pad_left;
            std::int64_t lo, hi;
            valid_range(out_w, w, g.sw, start, lo, hi);
            for (std::int64_t oh = oh0; oh < oh1; ++oh, out += out_w) {
                const std::int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
                if (ih < 0 || ih >= h) {
                    std::memset(out, 0, static_cast<std::size_t>(out_w) * sizeof(float));
                    continue;
                }
                const float* row = xc + ih * w + start;
                for (std::int64_t ow = 0; ow < lo; ++ow) out[ow] = 0.0f;
                if (g.sw == 1) {
                    std::memcpy(out + lo, row + lo, static_cast<std::size_t>(hi - lo) * sizeof(float));
                } else {
                    for (std::int64_t ow = lo; ow < hi; ++ow) out[ow] = row[ow * g.sw];
                }
                for (std::int64_t ow = hi; ow < out_w; ++ow) out[ow] = 0.0f;
            }
        }
    });
}

void col2im(const ConvGeometry& g, const float* col, std::int64_t h, std::int64_t w, std::int64_t out_w,
            std::int64_t oh0, std::int64_t oh1, float* dx, std::int64_t ld) {
    const std::int64_t cols = ld ? ld : (oh1 - oh0) * out_w;
    parallel_for(g.c_in, 1, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t c = c0; c < c1; ++c) {
            float* dxc = dx + c * h * w;
            for (std::int64_t i = 0; i < g.kh; ++i) {
                for (std::int64_t j = 0; j < g.kw; ++j) {
                    const float* in = col + ((c * g.kh + i) * g.kw + j) * cols;
                    const std::int64_t start = j * g.dw - g.pad_left;
                    std::int64_t lo, hi;
                    valid_range(out_w, w, g.sw, start, lo, hi);
                    for (std::int64_t oh = oh0; oh < oh1; ++oh, in += out_w) {
                        const std::int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
                        if (ih < 0 || ih >= h) continue;
                        float* row = dxc + ih * w + start;
                        if (g.sw == 1) {
                            for (std::int64_t ow = lo; ow < hi; ++ow) row[ow] += in[ow];
                        } else {
                            for (std::int64_t ow = lo; ow < hi; ++ow) row[ow * g.sw] += in[ow];
                        }
                    }
                }
            }
        }
    });
}

}  // namespace mtag::nn
