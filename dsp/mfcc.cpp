#include "dsp/mfcc.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace mtag::dsp {

FloatMatrix dct_ii_ortho(int n_out, int n_in) {
    if (n_in < 1 || n_out < 1 || n_out > n_in)
        throw Error("DCT-II", "needs 1 <= n_out <= n_in, got n_out=" + std::to_string(n_out) + ", n_in=" + std::to_string(n_in));
    FloatMatrix d(static_cast<std::size_t>(n_out), static_cast<std::size_t>(n_in));
    for (int k = 0; k < n_out; ++k) {
        const double scale = std::sqrt((k == 0 ? 1.0 : 2.0) / n_in);
        for (int n = 0; n < n_in; ++n)
            d(static_cast<std::size_t>(k), static_cast<std::size_t>(n)) =
                static_cast<float>(scale * std::cos(std::numbers::pi * k * (2 * n + 1) / (2.0 * n_in)));
    }
    return d;
}

Mfcc::Mfcc(int n_mels, const MfccOptions& options) : m_n_mels(n_mels), m_options(options) {
    if (options.n_mfcc < 1 || options.n_mfcc > n_mels)
        throw Error("MFCC n_mfcc", "must be in [1, n_mels=" + std::to_string(n_mels) + "], got " + std::to_string(options.n_mfcc));
    if (!(options.lifter >= 0.0f)) throw Error("MFCC lifter", "must be >= 0, got " + std::to_string(options.lifter));
    m_matrix = dct_ii_ortho(options.n_mfcc, n_mels);
    if (options.lifter > 0.0f) {
        // ref: librosa.feature.mfcc: LI = 1 + (lifter / 2) sin(pi * (1..n_mfcc) / lifter), per coefficient.
        const double L = options.lifter;
        for (int k = 0; k < options.n_mfcc; ++k) {
            const float li = static_cast<float>(1.0 + (L / 2.0) * std::sin(std::numbers::pi * (k + 1) / L));
            for (float& v : m_matrix.row(static_cast<std::size_t>(k))) v *= li;
        }
    }
}

void Mfcc::compute(const FloatMatrix& log_mel, FloatMatrix& out) const {
    if (log_mel.rows != static_cast<std::size_t>(m_n_mels))
        throw Error("MFCC", "input has " + std::to_string(log_mel.rows) + " mel bands, expected " + std::to_string(m_n_mels));
    const std::size_t frames = log_mel.cols;
    out.resize(static_cast<std::size_t>(n_mfcc()), frames);
    std::fill(out.data.begin(), out.data.end(), 0.0f);
    // out[k, :] += D[k, n] * S[n, :]: contiguous rows, vectorised over frames.
    for (std::size_t k = 0; k < out.rows; ++k) {
        float* dst = out.row(k).data();
        for (std::size_t n = 0; n < log_mel.rows; ++n) {
            const float w = m_matrix(k, n);
            const float* src = log_mel.row(n).data();
            for (std::size_t t = 0; t < frames; ++t) dst[t] += w * src[t];
        }
    }
}

}  // namespace mtag::dsp
