#include "dsp/random.hpp"

#include <array>

namespace mtag::dsp {

namespace {

// The 256-layer ziggurat of the standard normal density f(x) = exp(-x^2 / 2) (unnormalised): x[i] is the
// right edge of layer i (x[1] = r, where the tail starts; x[0] = v / f(r), the base layer's width including
// the tail's area; x[256] = 0), y[i] = f(x[i]). Every layer, the base with its tail included, has area v.
// ref: Marsaglia & Tsang 2000, section 2 (r and v for 256 layers)
struct Ziggurat {
    static constexpr double r = 3.6541528853610088;
    static constexpr double v = 0.00492867323399;
    std::array<double, 257> x{};
    std::array<double, 257> y{};

    Ziggurat() {
        const auto f = [](double t) { return std::exp(-0.5 * t * t); };
        x[0] = v / f(r);
        x[1] = r;
        for (std::size_t i = 2; i < 256; ++i) x[i] = std::sqrt(-2.0 * std::log(v / x[i - 1] + f(x[i - 1])));
        x[256] = 0.0;
        for (std::size_t i = 0; i < 257; ++i) y[i] = f(x[i]);
    }
};

const Ziggurat& ziggurat() {
    static const Ziggurat table;
    return table;
}

double normal_ziggurat(Rng& rng, const Ziggurat& z) {
    while (true) {
        const std::uint64_t bits = rng.next();
        const std::size_t i = bits & 0xff;                                   // the layer: the low 8 bits
        const double u = 2.0 * static_cast<double>(bits >> 11) * 0x1.0p-53 - 1.0;  // [-1, 1): the top 53
        const double x = u * z.x[i];
        if (std::abs(x) < z.x[i + 1]) return x;  // inside the layer's rectangle under the curve
        if (i == 0) {
            // The tail beyond r (Marsaglia 1964): an exponential proposal accepted by a second exponential.
            double a = 0.0, b = 0.0;
            do {
                a = -std::log(1.0 - rng.uniform()) / Ziggurat::r;
                b = -std::log(1.0 - rng.uniform());
            } while (b + b < a * a);
            return u < 0.0 ? -(Ziggurat::r + a) : Ziggurat::r + a;
        }
        // The wedge between the rectangle and the curve: accept under the density.
        if (z.y[i] + (z.y[i + 1] - z.y[i]) * rng.uniform() < std::exp(-0.5 * x * x)) return x;
    }
}

}  // namespace

void fill_normal(Rng& rng, std::span<float> out) {
    const Ziggurat& z = ziggurat();
    for (float& value : out) value = static_cast<float>(normal_ziggurat(rng, z));
}

}  // namespace mtag::dsp
