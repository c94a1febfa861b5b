#include "nn/layers/winograd.hpp"

#include "nn/layers/microkernel.hpp"
#include "nn/threads.hpp"
#include "nn/workspace.hpp"

#include <algorithm>
#include <utility>

namespace mtag::nn::winograd {

namespace {

using microkernel::mr;
using microkernel::nr;

// Transform matrices of F(m, r) (correlation y[i] = sum_k g[k] d[i+k]): Y = AT [(G g) .* (BT d)].
// ref: Lavin & Gray 2016, section 4 (F(2,3)) and the F(4,3) matrices of its appendix/wincnn.
template <int M, int R>
struct Tf;

// F(1,1): the identity, for the row axis of 1-D problems.
template <>
struct Tf<1, 1> {
    static constexpr int m = 1, r = 1, alpha = 1;
    static constexpr float bt[1][1] = {{1.0f}};
    static constexpr float g[1][1] = {{1.0f}};
    static constexpr float at[1][1] = {{1.0f}};
};

// F(2,3), interpolation points 0, 1, -1, infinity.
template <>
struct Tf<2, 3> {
    static constexpr int m = 2, r = 3, alpha = 4;
    static constexpr float bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    static constexpr float g[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    static constexpr float at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

// F(4,3), interpolation points 0, 1, -1, 2, -2, infinity.
template <>
struct Tf<4, 3> {
    static constexpr int m = 4, r = 3, alpha = 6;
    static constexpr float bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                       {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static constexpr float g[6][3] = {{1.0f / 4, 0, 0},
                                      {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                      {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                      {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                      {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                      {0, 0, 1}};
    static constexpr float at[4][6] = {
        {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

// F(3,4), the same points as F(4,3): 6 multiplies for 3 outputs of a 4-tap filter instead of 12. BT is
// F(4,3)'s (it depends on the points only); G and AT follow the same Toom-Cook construction (G row j:
// f_j^k / prod_{l != j} (f_j - f_l), AT column j: f_j^i; the last row / column is the point at infinity).
template <>
struct Tf<3, 4> {
    static constexpr int m = 3, r = 4, alpha = 6;
    static constexpr float bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                       {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
    static constexpr float g[6][4] = {{1.0f / 4, 0, 0, 0},
                                      {-1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6},
                                      {-1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6},
                                      {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3},
                                      {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3},
                                      {0, 0, 0, 1}};
    static constexpr float at[3][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 1}};
};

// F(3,2), the points of F(2,3) (0, 1, -1, infinity; the same BT and sign convention): 4 multiplies for
// 3 outputs of a 2-tap filter. Used for the 2-tap phases of stride-2 3x3 convolutions
// (nn/layers/polyphase_conv.hpp); checked against the direct sum in tests/nn/layers/test_polyphase_conv.cpp.
template <>
struct Tf<3, 2> {
    static constexpr int m = 3, r = 2, alpha = 4;
    static constexpr float bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    static constexpr float g[4][2] = {{1, 0}, {0.5f, 0.5f}, {0.5f, -0.5f}, {0, 1}};
    static constexpr float at[3][4] = {{1, 1, 1, 0}, {0, 1, -1, 0}, {0, 1, 1, -1}};
};

// F(3,1): the identity on 3-wide tiles, for the 1-tap phases of stride-2 3x3 convolutions (the other
// axis may have 2 taps; the tiles of all phases are then alike).
template <>
struct Tf<3, 1> {
    static constexpr int m = 3, r = 1, alpha = 3;
    static constexpr float bt[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    static constexpr float g[3][1] = {{1}, {1}, {1}};
    static constexpr float at[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
};

// The data transforms below skip the zero entries of BT and AT (about half of them for the 6-point
// transforms): the loops are fully unrolled over constexpr matrices, so the test is resolved at compile time,
// where `acc += 0.0f * d` is otherwise kept (IEEE: 0 * inf is NaN). For finite data the sums are
// bit-identical (adding a zero product leaves acc unchanged, up to the sign of a zero).

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

// Tiles of one block are stored in GEMM panels of nr tiles; transform working memory per block
// (V + M) is kept near this many bytes so a block stays in the per-core L2 cache.
constexpr std::int64_t block_budget_bytes = std::int64_t{1} << 20;

// TH: the transform along rows (F(1,1) for 1-D problems), TW: along columns.
template <class TH, class TW>
struct Impl {
    // A tile reads its own input phases and the first ones of the next tile (s = tiles + 1 below).
    static_assert(TH::r - 1 <= TH::m && TW::r - 1 <= TW::m, "a tile may only overlap its right neighbour");
    static constexpr int MH = TH::m, MW = TW::m, AH = TH::alpha, AW = TW::alpha, RH = TH::r, RW = TW::r;
    static constexpr int A2 = AH * AW;

    // Panels [p0, p1) of the weight transform (see weights()). No unroll pragmas: with the loops fully
    // unrolled, GCC emitted scalar FMAs instead of mr-wide ones (2-4x slower).
    //
    // The taps of the panel's mr output channels are first copied lane-interleaved into `stage` for a chunk
    // of input channels, then transformed mr-wide from there. Gathered into a small array right before its
    // vector loads (one input channel at a time), every mr-wide load waited on the mr scalar stores it
    // spans (a failed store-to-load forward; the hottest instruction of the transform in perf annotate).
    // The arithmetic per element is unchanged: bit-identical transformed weights.
    template <bool Flip>
    static void weight_panels(const float* w, std::int64_t c_out, std::int64_t c_in, std::int64_t copan,
                              std::int64_t p0, std::int64_t p1, float* u) {
        constexpr int K = RH * RW;
        constexpr std::int64_t chunk = 32;  // input channels staged at a time (K * chunk * mr floats)
        alignas(64) float stage[chunk * K * mr];
        for (std::int64_t p = p0; p < p1; ++p)
            for (std::int64_t c0 = 0; c0 < c_in; c0 += chunk) {
                const std::int64_t cn = std::min(chunk, c_in - c0);
                for (int r = 0; r < mr; ++r) {
                    const std::int64_t co = p * mr + r;
                    for (std::int64_t c = 0; c < cn; ++c) {
                        const std::int64_t ci = c0 + c;
                        for (int k = 0; k < K; ++k)
                            stage[(c * K + k) * mr + r] = co >= c_out ? 0.0f
                                                          : Flip ? w[(ci * c_out + co) * K + (K - 1 - k)]
                                                                 : w[(co * c_in + ci) * K + k];
                    }
                }
                for (std::int64_t c = 0; c < cn; ++c) {
                    const std::int64_t ci = c0 + c;
                    const float* g = stage + c * K * mr;  // g[k * mr + r]
                    float t[AH][RW][mr];
                    for (int xa = 0; xa < AH; ++xa)
                        for (int b = 0; b < RW; ++b)
                            for (int r = 0; r < mr; ++r) {
                                float acc = 0.0f;
                                for (int a = 0; a < RH; ++a) acc += TH::g[xa][a] * g[(a * RW + b) * mr + r];
                                t[xa][b][r] = acc;
                            }
                    for (int xa = 0; xa < AH; ++xa)
                        for (int xb = 0; xb < AW; ++xb) {
                            float* dst = u + (((xa * AW + xb) * copan + p) * c_in + ci) * mr;
                            for (int r = 0; r < mr; ++r) {
                                float acc = 0.0f;
                                for (int b = 0; b < RW; ++b) acc += TW::g[xb][b] * t[xa][b][r];
                                dst[r] = acc;
                            }
                        }
                }
            }
    }

    static void weights(const float* w, std::int64_t c_out, std::int64_t c_in, bool flip, float* u) {
        const std::int64_t copan = ceil_div(c_out, mr);
        parallel_for(copan, 1, [&](std::int64_t p0, std::int64_t p1) {
            if (flip)
                weight_panels<true>(w, c_out, c_in, copan, p0, p1, u);
            else
                weight_panels<false>(w, c_out, c_in, copan, p0, p1, u);
        });
    }

    // Calls f(tile_row, first_tile_col, count, first_local_tile) for the row segments of tiles [t0, t1).
    template <class F>
    static void segments(std::int64_t t0, std::int64_t t1, std::int64_t tw, F&& f) {
        for (std::int64_t t = t0; t < t1;) {
            const std::int64_t tr = t / tw, tc0 = t % tw, nt = std::min(tw - tc0, t1 - t);
            f(tr, tc0, nt, t - t0);
            t += nt;
        }
    }

    // ph[r][b][j] = plane(row0 + r, col0 + j*MW + b) for r < rows, b < MW, j < s; zero outside the plane.
    static void load_phases(const float* plane, std::int64_t h, std::int64_t w, std::int64_t row0,
                            std::int64_t col0, int rows, std::int64_t s, float* ph) {
        for (int r = 0; r < rows; ++r) {
            float* pr = ph + r * MW * s;
            const std::int64_t ih = row0 + r;
            if (ih < 0 || ih >= h) {
                std::fill(pr, pr + MW * s, 0.0f);
                continue;
            }
            const float* row = plane + ih * w;
            // Tiles [j_lo, j_hi) read only inside the row; the few at either end check each column.
            const std::int64_t j_lo = std::min(s, col0 >= 0 ? 0 : ceil_div(-col0, MW));
            const std::int64_t j_hi = std::clamp<std::int64_t>(w - col0 >= 0 ? (w - col0) / MW : 0, j_lo, s);
            const auto edge = [&](std::int64_t j) {
                for (int b = 0; b < MW; ++b) {
                    const std::int64_t iw = col0 + j * MW + b;
                    pr[b * s + j] = iw >= 0 && iw < w ? row[iw] : 0.0f;
                }
            };
            for (std::int64_t j = 0; j < j_lo; ++j) edge(j);
            for (std::int64_t j = j_hi; j < s; ++j) edge(j);
            const float* src = row + col0;
#pragma GCC ivdep
            for (std::int64_t j = j_lo; j < j_hi; ++j)
#pragma GCC unroll 8
                for (int b = 0; b < MW; ++b) pr[b * s + j] = src[j * MW + b];
        }
    }

    // The row-axis input transform of one tile-row segment: returns hs [AH][MW][s] (s = nt + 1, as tile
    // j also reads the first phases of tile j + 1), in tmp.
    static const float* input_rows(const Problem& p, const float* xc, std::int64_t tr, std::int64_t tc0,
                                   std::int64_t s, float* tmp) {
        float* ph = tmp;
        load_phases(xc, p.h, p.w, tr * MH - p.pad_top, tc0 * MW - p.pad_left, AH, s, ph);
        if constexpr (AH == 1) return ph;
        float* hs = tmp + AH * MW * s;
        for (int b = 0; b < MW; ++b)
#pragma GCC ivdep
            for (std::int64_t j = 0; j < s; ++j) {
                float d[AH];
#pragma GCC unroll 8
                for (int a = 0; a < AH; ++a) d[a] = ph[(a * MW + b) * s + j];
#pragma GCC unroll 8
                for (int xa = 0; xa < AH; ++xa) {
                    float acc = 0.0f;
#pragma GCC unroll 8
                    for (int a = 0; a < AH; ++a) if (TH::bt[xa][a] != 0.0f) acc += TH::bt[xa][a] * d[a];
                    hs[(xa * MW + b) * s + j] = acc;
                }
            }
        return hs;
    }

    // The column-axis input transform of tiles [j0, j0 + len) of a segment: dst[xi_stride * xi + i * ES].
    template <int ES>
    static void input_columns(const float* hrow, std::int64_t s, std::int64_t j0, std::int64_t len,
                              float* dst, std::int64_t xi_stride) {
#pragma GCC ivdep
        for (std::int64_t i = 0; i < len; ++i) {
            float d[AW];
#pragma GCC unroll 8
            for (int b = 0; b < AW; ++b) d[b] = hrow[(b % MW) * s + j0 + i + b / MW];
#pragma GCC unroll 8
            for (int xb = 0; xb < AW; ++xb) {
                float acc = 0.0f;
#pragma GCC unroll 8
                for (int b = 0; b < AW; ++b) if (TW::bt[xb][b] != 0.0f) acc += TW::bt[xb][b] * d[b];
                dst[xb * xi_stride + i * ES] = acc;
            }
        }
    }

    // V[xi][panel][ci][lane] = (BT d B)[xi] of every tile of the block, for one input channel (the B
    // operand of the forward GEMMs: tiles along the lanes).
    static void input_transform(const Problem& p, const float* xc, std::int64_t ci, std::int64_t t0,
                                std::int64_t t1, std::int64_t tw, std::int64_t npan, float* v, float* tmp) {
        segments(t0, t1, tw, [&](std::int64_t tr, std::int64_t tc0, std::int64_t nt, std::int64_t lt0) {
            const std::int64_t s = nt + 1;
            const float* hs = input_rows(p, xc, tr, tc0, s, tmp);
            const std::int64_t xi_stride = npan * p.c_in * nr;
            for (int xa = 0; xa < AH; ++xa)
                for (std::int64_t j0 = 0; j0 < nt;) {
                    const std::int64_t lt = lt0 + j0, pan = lt / nr, lane = lt % nr;
                    const std::int64_t len = std::min(nt - j0, nr - lane);
                    input_columns<1>(hs + xa * MW * s, s, j0, len,
                                     v + (((xa * AW) * npan + pan) * p.c_in + ci) * nr + lane, xi_stride);
                    j0 += len;
                }
        });
    }

    // rows[xi * xi_rows * len + tile] = (BT d B)[xi] of tiles [t0, t1) of one sample, for one input channel:
    // tiles contiguous, the layout the weight gradient transposes into its packed operand. len is the row
    // length (the block's tiles, which may span several samples).
    static void input_transform_rows(const Problem& p, const float* xc, std::int64_t t0, std::int64_t t1,
                                     std::int64_t tw, std::int64_t xi_rows, std::int64_t len, float* rows,
                                     float* tmp) {
        const std::int64_t nb = len;
        segments(t0, t1, tw, [&](std::int64_t tr, std::int64_t tc0, std::int64_t nt, std::int64_t lt0) {
            const std::int64_t s = nt + 1;
            const float* hs = input_rows(p, xc, tr, tc0, s, tmp);
            for (int xa = 0; xa < AH; ++xa)
                input_columns<1>(hs + xa * MW * s, s, 0, nt, rows + (xa * AW) * xi_rows * nb + lt0,
                                 xi_rows * nb);
        });
    }

    // rows[xi * xi_rows * len + tile] = (A dY AT)[xi] for one output channel: the adjoint of the output
    // transform applied to the output gradient (transposed into the A operand of the weight gradient).
    static void grad_output_transform(const Problem& p, const float* gyc, std::int64_t t0, std::int64_t t1,
                                      std::int64_t tw, std::int64_t xi_rows, std::int64_t len, float* rows,
                                      float* tmp) {
        const std::int64_t nb = len;
        segments(t0, t1, tw, [&](std::int64_t tr, std::int64_t tc0, std::int64_t nt, std::int64_t lt0) {
            float* ph = tmp;  // [MH][MW][nt]: the output-gradient tiles, zero beyond the map
            load_phases(gyc, p.out_h, p.out_w, tr * MH, tc0 * MW, MH, nt, ph);
            float* e = tmp + MH * MW * nt;  // [AH][MW][nt]
            for (int b = 0; b < MW; ++b)
#pragma GCC ivdep
                for (std::int64_t j = 0; j < nt; ++j) {
                    float d[MH];
#pragma GCC unroll 8
                    for (int i = 0; i < MH; ++i) d[i] = ph[(i * MW + b) * nt + j];
#pragma GCC unroll 8
                    for (int xa = 0; xa < AH; ++xa) {
                        float acc = 0.0f;
#pragma GCC unroll 8
                        for (int i = 0; i < MH; ++i) if (TH::at[i][xa] != 0.0f) acc += TH::at[i][xa] * d[i];
                        e[(xa * MW + b) * nt + j] = acc;
                    }
                }
            const std::int64_t xi_stride = xi_rows * nb;
            for (int xa = 0; xa < AH; ++xa) {
                float* dst = rows + (xa * AW) * xi_stride + lt0;
#pragma GCC ivdep
                for (std::int64_t j = 0; j < nt; ++j) {
                    float d[MW];
#pragma GCC unroll 8
                    for (int b = 0; b < MW; ++b) d[b] = e[(xa * MW + b) * nt + j];
#pragma GCC unroll 8
                    for (int xb = 0; xb < AW; ++xb) {
                        float acc = 0.0f;
#pragma GCC unroll 8
                        for (int b = 0; b < MW; ++b) if (TW::at[b][xb] != 0.0f) acc += TW::at[b][xb] * d[b];
                        dst[xb * xi_stride + j] = acc;
                    }
                }
            }
        });
    }

    // Output row I of tiles [0, full) of a segment: yrow[j * MW + b] (+)= sum over xa of AT[I][xa] ws[xa][b][j].
    // I is a template argument, so the coefficients and their zero tests are constants and the loop over
    // tiles has no branches: GCC vectorises it (with I a loop variable and the accumulate flag tested per
    // element, it stayed scalar: "control flow in loop"). The sums are the same, in the same order.
    template <int I, bool Accumulate>
    static void output_row(const float* ws, std::int64_t nt, std::int64_t full, float* yrow) {
#pragma GCC ivdep
        for (std::int64_t j = 0; j < full; ++j)
#pragma GCC unroll 8
            for (int b = 0; b < MW; ++b) {
                float acc = 0.0f;
#pragma GCC unroll 8
                for (int xa = 0; xa < AH; ++xa)
                    if (TH::at[I][xa] != 0.0f) acc += TH::at[I][xa] * ws[(xa * MW + b) * nt + j];
                yrow[j * MW + b] = Accumulate ? yrow[j * MW + b] + acc : acc;
            }
    }

    // Rows [0, rows) of the segment's output (rows < MH at the bottom edge of the map).
    template <bool Accumulate, int... I>
    static void output_rows(const float* ws, std::int64_t nt, std::int64_t full, int rows, std::int64_t out_w,
                            float* y0, std::integer_sequence<int, I...>) {
        ((I < rows ? output_row<I, Accumulate>(ws, nt, full, y0 + I * out_w) : void()), ...);
    }

    // y = (AT M A) for every tile of the block, for one output channel; clips tiles at the map edge.
    static void output_transform(const Problem& p, const float* m, std::int64_t co, std::int64_t cop,
                                 std::int64_t nbp, std::int64_t t0, std::int64_t t1, std::int64_t tw,
                                 float* yc, float* tmp, bool accumulate) {
        segments(t0, t1, tw, [&](std::int64_t tr, std::int64_t tc0, std::int64_t nt, std::int64_t lt0) {
            float* ws = tmp;  // [AH][MW][nt] after the column-axis transform
            const float* src = m + co * nbp + lt0;
            const std::int64_t xi_stride = cop * nbp;
            for (int xa = 0; xa < AH; ++xa)
#pragma GCC ivdep
                for (std::int64_t j = 0; j < nt; ++j) {
                    float d[AW];
#pragma GCC unroll 8
                    for (int xb = 0; xb < AW; ++xb) d[xb] = src[(xa * AW + xb) * xi_stride + j];
#pragma GCC unroll 8
                    for (int b = 0; b < MW; ++b) {
                        float acc = 0.0f;
#pragma GCC unroll 8
                        for (int xb = 0; xb < AW; ++xb) if (TW::at[b][xb] != 0.0f) acc += TW::at[b][xb] * d[xb];
                        ws[(xa * MW + b) * nt + j] = acc;
                    }
                }
            const std::int64_t full = (tc0 + nt) * MW <= p.out_w ? nt : nt - 1;
            const auto rows = static_cast<int>(std::min<std::int64_t>(MH, p.out_h - tr * MH));
            float* y0 = yc + tr * MH * p.out_w + tc0 * MW;
            if (accumulate)
                output_rows<true>(ws, nt, full, rows, p.out_w, y0, std::make_integer_sequence<int, MH>{});
            else
                output_rows<false>(ws, nt, full, rows, p.out_w, y0, std::make_integer_sequence<int, MH>{});
            for (int i = 0; i < rows; ++i) {
                float* yrow = y0 + i * p.out_w;
                for (std::int64_t j = full; j < nt; ++j)
                    for (int b = 0; b < MW; ++b) {
                        if ((tc0 + j) * MW + b >= p.out_w) break;
                        float acc = 0.0f;
                        for (int xa = 0; xa < AH; ++xa) acc += TH::at[i][xa] * ws[(xa * MW + b) * nt + j];
                        yrow[j * MW + b] = accumulate ? yrow[j * MW + b] + acc : acc;
                    }
            }
        });
    }

    static void block(const Problem& p, const float* x, const float* u, float* y, std::int64_t t0,
                      std::int64_t t1, std::int64_t tw, std::int64_t nb_max, bool accumulate) {
        const std::int64_t nb = t1 - t0, npan = ceil_div(nb, nr), nbp = npan * nr;
        const std::int64_t copan = ceil_div(p.c_out, mr), cop = copan * mr;
        float* v = scratch(static_cast<std::size_t>(A2 * npan * p.c_in * nr), 0);
        float* m = scratch(static_cast<std::size_t>(A2 * cop * nbp), 1);
        float* tmp = scratch(static_cast<std::size_t>(2 * AH * MW * (nb_max + 2)), 2);
        if (nb < nbp)  // unused lanes of the last panel: keep them finite (their results are dropped)
            for (std::int64_t k = 0; k < A2 * p.c_in; ++k) {
                const std::int64_t xi = k / p.c_in, ci = k % p.c_in;
                float* lanes = v + ((xi * npan + npan - 1) * p.c_in + ci) * nr;
                std::fill(lanes + (nb - (npan - 1) * nr), lanes + nr, 0.0f);
            }
        for (std::int64_t ci = 0; ci < p.c_in; ++ci)
            input_transform(p, x + ci * p.h * p.w, ci, t0, t1, tw, npan, v, tmp);
        const microkernel::Kernel kernel = microkernel::kernel();
        for (int xi = 0; xi < A2; ++xi)
            for (std::int64_t q = 0; q < npan; ++q) {
                const float* bp = v + (xi * npan + q) * p.c_in * nr;
                for (std::int64_t pp = 0; pp < copan; ++pp)
                    kernel(p.c_in, u + (xi * copan + pp) * p.c_in * mr, bp,
                           m + (xi * cop + pp * mr) * nbp + q * nr, nbp, false);
            }
        for (std::int64_t co = 0; co < p.c_out; ++co)
            output_transform(p, m, co, cop, nbp, t0, t1, tw, y + co * p.out_h * p.out_w, tmp, accumulate);
    }

    static void weight_gradient(const Problem& p, std::int64_t n, const float* x, const float* gy, float* gw);

    static void run(const Problem& p, std::int64_t n, const float* x, const float* u, float* y, bool accumulate) {
        const std::int64_t th = ceil_div(p.out_h, MH), tw = ceil_div(p.out_w, MW), tiles = th * tw;
        const std::int64_t cop = ceil_div(p.c_out, mr) * mr;
        const std::int64_t per_panel = 4 * A2 * (p.c_in + cop) * nr;
        const std::int64_t total_panels = ceil_div(tiles, nr);
        std::int64_t panels = std::clamp<std::int64_t>(block_budget_bytes / per_panel, 1, total_panels);
        // Enough blocks to share among threads (the split depends on n and sizes only, never on threads).
        while (panels > 1 && n * ceil_div(total_panels, panels) < 8) --panels;
        const std::int64_t nb = panels * nr, blocks = ceil_div(tiles, nb);
        parallel_for(n * blocks, 1, [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i) {
                const std::int64_t s = i / blocks, b = i % blocks;
                block(p, x + s * p.c_in * p.h * p.w, u, y + s * p.c_out * p.out_h * p.out_w, b * nb,
                      std::min(tiles, (b + 1) * nb), tw, nb, accumulate);
            }
        });
    }
};

template <class TH, class TW>
void Impl<TH, TW>::weight_gradient(const Problem& p, std::int64_t n, const float* x, const float* gy,
                                   float* gw) {
    const std::int64_t th = ceil_div(p.out_h, MH), tw = ceil_div(p.out_w, MW), tiles = th * tw;
    const std::int64_t copan = ceil_div(p.c_out, mr), cop = copan * mr;
    const std::int64_t cipan = ceil_div(p.c_in, nr), cip = cipan * nr;
    // Tiles per block (the K of the GEMMs): V and dM of a block stay near 2 MB (larger blocks were no
    // faster and grow the peak memory of a training step).
    const std::int64_t per_tile = 4 * A2 * (cip + cop);
    const std::int64_t nb = std::clamp<std::int64_t>((std::int64_t{1} << 21) / per_tile, 64, 1024);
    float* du = scratch(static_cast<std::size_t>(A2 * cop * cip), 3);
    std::fill(du, du + A2 * cop * cip, 0.0f);
    float* vt = scratch(static_cast<std::size_t>(A2 * cipan * nb * nr), 4);
    float* dm = scratch(static_cast<std::size_t>(A2 * copan * nb * mr), 5);
    const microkernel::Kernel kernel = microkernel::kernel();
    // Blocks run one after another (each GEMM accumulates its tiles into dU in a fixed order); the
    // work inside a block is split over channels and over (xi, C_out panel), so results do not
    // depend on the thread count. A block takes the tiles of consecutive samples (the batch's tiles
    // numbered sample by sample), balanced to equal sizes: with one block per sample, cnn1d's first
    // layer (31 tiles a sample) ran 16 rounds of two parallel loops with GEMMs of K = 31 each step;
    // now 2 rounds of K = 248. The sum over tiles is then split differently (float rounding of the
    // weight gradient differs from per-sample blocks; still fixed for a given shape and batch size).
    const std::int64_t total = n * tiles;
    const std::int64_t blocks = ceil_div(total, nb), per_block = ceil_div(total, blocks);
    for (std::int64_t g0 = 0; g0 < total; g0 += per_block) {
        const std::int64_t g1 = std::min(total, g0 + per_block), k = g1 - g0;
        if (p.c_in % nr || p.c_out % mr) {  // padded lanes must be zero
            std::fill(vt, vt + A2 * cipan * k * nr, 0.0f);
            std::fill(dm, dm + A2 * copan * k * mr, 0.0f);
        }
        // Transforms of groups of channels into rows (tiles contiguous), then transposed 8 x 8 into
        // the packed operands (channels along the lanes). A group fills whole panel rows (nr input
        // or mr output channels): with groups of 8 input channels, four groups shared each 128-byte
        // row of V, and two threads writing neighbouring groups made cnn1d's backward 2.8x slower
        // on two threads than on one (false sharing).
        constexpr std::int64_t in_group = nr, out_group = mr;
        const std::int64_t in_groups = ceil_div(p.c_in, in_group), out_groups = ceil_div(p.c_out, out_group);
        parallel_for(in_groups + out_groups, 1, [&](std::int64_t gr0, std::int64_t gr1) {
            float* tmp = scratch(static_cast<std::size_t>(2 * AH * MW * (nb + 2)), 2);
            float* rows = scratch(static_cast<std::size_t>(A2 * std::max(in_group, out_group) * k), 6);
            for (std::int64_t gi = gr0; gi < gr1; ++gi) {
                const bool input = gi < in_groups;
                const std::int64_t group = input ? in_group : out_group;
                const std::int64_t c0 = (input ? gi : gi - in_groups) * group;
                const std::int64_t cn = std::min(group, (input ? p.c_in : p.c_out) - c0);
                for (std::int64_t c = 0; c < cn; ++c)
                    for (std::int64_t s = g0 / tiles; s * tiles < g1; ++s) {
                        // This sample's tiles [t0, t1) of the block, at `at` in the block's rows.
                        const std::int64_t t0 = std::max(g0, s * tiles) - s * tiles;
                        const std::int64_t t1 = std::min(g1, (s + 1) * tiles) - s * tiles;
                        float* at = rows + c * k + (s * tiles + t0 - g0);
                        if (input)
                            input_transform_rows(p, x + (s * p.c_in + c0 + c) * p.h * p.w, t0, t1, tw, group, k,
                                                 at, tmp);
                        else
                            grad_output_transform(p, gy + (s * p.c_out + c0 + c) * p.out_h * p.out_w, t0, t1,
                                                  tw, group, k, at, tmp);
                    }
                for (int xi = 0; xi < A2; ++xi) {
                    float* dst = input ? vt + ((xi * cipan + c0 / nr) * k) * nr + c0 % nr
                                       : dm + ((xi * copan + c0 / mr) * k) * mr + c0 % mr;
                    microkernel::transpose(rows + xi * group * k, k, dst, input ? nr : mr, cn, k);
                }
            }
        });
        parallel_for(A2 * copan, 1, [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i) {
                const std::int64_t xi = i / copan, pp = i % copan;
                const float* a = dm + (xi * copan + pp) * k * mr;
                for (std::int64_t q = 0; q < cipan; ++q)
                    kernel(k, a, vt + (xi * cipan + q) * k * nr, du + (xi * cop + pp * mr) * cip + q * nr,
                           cip, true);
            }
        });
    }
    // grad_w(co, ci, a, b) += sum_xi G_h[xa][a] G_w[xb][b] dU[xi](co, ci).
    parallel_for(p.c_out, 1, [&](std::int64_t c0, std::int64_t c1) {
        for (std::int64_t co = c0; co < c1; ++co)
            for (std::int64_t ci = 0; ci < p.c_in; ++ci) {
                float t[AH][RW] = {};
                for (int xa = 0; xa < AH; ++xa)
                    for (int xb = 0; xb < AW; ++xb) {
                        const float d = du[((xa * AW + xb) * cop + co) * cip + ci];
                        for (int b = 0; b < RW; ++b) t[xa][b] += TW::g[xb][b] * d;
                    }
                float* g = gw + (co * p.c_in + ci) * RH * RW;
                for (int a = 0; a < RH; ++a)
                    for (int b = 0; b < RW; ++b) {
                        float acc = 0.0f;
                        for (int xa = 0; xa < AH; ++xa) acc += TH::g[xa][a] * t[xa][b];
                        g[a * RW + b] += acc;
                    }
            }
    });
}

using F2x2 = Impl<Tf<2, 3>, Tf<2, 3>>;
using F4x4 = Impl<Tf<4, 3>, Tf<4, 3>>;
using F2 = Impl<Tf<1, 1>, Tf<2, 3>>;
using F4 = Impl<Tf<1, 1>, Tf<4, 3>>;
using F3x4 = Impl<Tf<1, 1>, Tf<3, 4>>;
using F3x3_2x2 = Impl<Tf<3, 2>, Tf<3, 2>>;
using F3x3_2x1 = Impl<Tf<3, 2>, Tf<3, 1>>;
using F3x3_1x2 = Impl<Tf<3, 1>, Tf<3, 2>>;
using F3x3_1x1 = Impl<Tf<3, 1>, Tf<3, 1>>;

// Calls f with a value of the Impl type of `tile` (its members are static): one switch for every entry point.
template <class F>
decltype(auto) with_impl(Tile tile, F&& f) {
    switch (tile) {
        case Tile::f2x2_3x3:
            return f(F2x2{});
        case Tile::f4x4_3x3:
            return f(F4x4{});
        case Tile::f2_3:
            return f(F2{});
        case Tile::f3_4:
            return f(F3x4{});
        case Tile::f3x3_2x2:
            return f(F3x3_2x2{});
        case Tile::f3x3_2x1:
            return f(F3x3_2x1{});
        case Tile::f3x3_1x2:
            return f(F3x3_1x2{});
        case Tile::f3x3_1x1:
            return f(F3x3_1x1{});
        case Tile::f4_3:
            break;
    }
    return f(F4{});
}

int alpha2(Tile tile) {
    return with_impl(tile, [](auto impl) { return decltype(impl)::A2; });
}

}  // namespace

std::string name(Tile tile) {
    switch (tile) {
        case Tile::f2x2_3x3:
            return "F(2x2,3x3)";
        case Tile::f4x4_3x3:
            return "F(4x4,3x3)";
        case Tile::f2_3:
            return "F(2,3)";
        case Tile::f4_3:
            return "F(4,3)";
        case Tile::f3_4:
            return "F(3,4)";
        case Tile::f3x3_2x2:
            return "F(3x3,2x2)";
        case Tile::f3x3_2x1:
            return "F(3x3,2x1)";
        case Tile::f3x3_1x2:
            return "F(3x3,1x2)";
        case Tile::f3x3_1x1:
            return "F(3x3,1x1)";
    }
    return "?";
}

int kernel_width(Tile tile) {
    return with_impl(tile, [](auto impl) { return decltype(impl)::RW; });
}

int kernel_height(Tile tile) {
    return with_impl(tile, [](auto impl) { return decltype(impl)::RH; });
}

std::size_t packed_weight_size(Tile tile, std::int64_t c_out, std::int64_t c_in) {
    return static_cast<std::size_t>(alpha2(tile) * ceil_div(c_out, mr) * mr * c_in);
}

void transform_weights(Tile tile, const float* w, std::int64_t c_out, std::int64_t c_in, bool flip_transpose,
                       float* u) {
    with_impl(tile, [&](auto impl) { decltype(impl)::weights(w, c_out, c_in, flip_transpose, u); });
}

void weight_gradient(Tile tile, const Problem& p, std::int64_t n, const float* x, const float* grad_y,
                     float* grad_w) {
    with_impl(tile, [&](auto impl) { decltype(impl)::weight_gradient(p, n, x, grad_y, grad_w); });
}

void convolve(Tile tile, const Problem& p, std::int64_t n, const float* x, const float* u, float* y,
              bool accumulate) {
    with_impl(tile, [&](auto impl) { decltype(impl)::run(p, n, x, u, y, accumulate); });
}

}  // namespace mtag::nn::winograd
