#include "dsp/window.hpp"

#include "dsp/error.hpp"

#include <cmath>
#include <numbers>

namespace mtag::dsp {

WindowKind parse_window_kind(std::string_view name) {
    if (name == "hann" || name == "hanning") return WindowKind::hann;
    if (name == "hamming") return WindowKind::hamming;
    if (name == "blackman") return WindowKind::blackman;
    if (name == "ones" || name == "rectangular" || name == "boxcar") return WindowKind::rectangular;
    throw Error("window '" + std::string(name) + "'",
                "unknown; expected one of hann, hamming, blackman, ones (rectangular)");
}

std::string window_name(WindowKind kind) {
    switch (kind) {
        case WindowKind::hann: return "hann";
        case WindowKind::hamming: return "hamming";
        case WindowKind::blackman: return "blackman";
        case WindowKind::rectangular: return "rectangular";
    }
    return "unknown";
}

std::vector<float> make_window(WindowKind kind, int length, bool periodic) {
    if (length < 1) throw Error("window length", "must be at least 1, got " + std::to_string(length));
    std::vector<float> w(static_cast<std::size_t>(length), 1.0f);
    // ref: scipy.signal.get_window: a length-1 window is [1]; periodic windows are the symmetric
    // window of length N + 1 with its last sample dropped, i.e. the phase step is 2 pi / N.
    if (length == 1 || kind == WindowKind::rectangular) return w;
    const double denom = periodic ? static_cast<double>(length) : static_cast<double>(length - 1);
    const double step = 2.0 * std::numbers::pi / denom;
    for (int n = 0; n < length; ++n) {
        const double c1 = std::cos(step * n);
        double v = 1.0;
        switch (kind) {
            case WindowKind::hann: v = 0.5 - 0.5 * c1; break;
            case WindowKind::hamming: v = 0.54 - 0.46 * c1; break;
            case WindowKind::blackman: v = 0.42 - 0.5 * c1 + 0.08 * std::cos(2.0 * step * n); break;
            case WindowKind::rectangular: break;
        }
        w[static_cast<std::size_t>(n)] = static_cast<float>(v);
    }
    return w;
}

}  // namespace mtag::dsp
