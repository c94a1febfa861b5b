#pragma once
// A small, fast, portable random generator for augmentation. Every draw is defined here (not by the
// standard library's distributions, whose algorithms differ between libstdc++ and libc++), so a seed
// gives the same audio on every platform and compiler.
// ref: Blackman & Vigna 2018, xoshiro256++ and splitmix64
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <span>

namespace mtag::dsp {

// One step of splitmix64: a well-mixed 64-bit hash, used to seed and to derive sub-seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Mixes several integers into one seed: derive_seed(seed, clip_index, epoch, transform_index) gives
// independent, reproducible streams for every (seed, clip, epoch, transform).
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                                    std::uint64_t c = 0) {
    std::uint64_t state = seed;
    std::uint64_t h = splitmix64(state);
    for (std::uint64_t v : {a, b, c}) {
        state = h ^ (v + 0x632be59bd9b4e019ULL);
        h = splitmix64(state);
    }
    return h;
}

// xoshiro256++ with explicit, portable uniform and normal draws. Not thread-safe: give each thread or
// each clip its own generator (they are cheap: 32 bytes).
class Rng {
  public:
    explicit Rng(std::uint64_t seed) {
        std::uint64_t state = seed;
        for (auto& word : m_s) word = splitmix64(state);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(m_s[0] + m_s[3], 23) + m_s[0];
        const std::uint64_t t = m_s[1] << 17;
        m_s[2] ^= m_s[0];
        m_s[3] ^= m_s[1];
        m_s[1] ^= m_s[2];
        m_s[0] ^= m_s[3];
        m_s[2] ^= t;
        m_s[3] = rotl(m_s[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in [low, high).
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    // Uniform integer in [0, n) (n > 0), by 128-bit multiply (Lemire), bias below 2^-64 * n.
    std::uint64_t below(std::uint64_t n) {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }
    // True with probability p.
    bool bernoulli(double p) { return uniform() < p; }
    // Standard normal by the Box-Muller transform (both values of a pair are used). For many draws at once,
    // fill_normal below is several times faster.
    double normal() {
        if (m_has_spare) {
            m_has_spare = false;
            return m_spare;
        }
        const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        m_spare = r * std::sin(2.0 * std::numbers::pi * u2);
        m_has_spare = true;
        return r * std::cos(2.0 * std::numbers::pi * u2);
    }

  private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t m_s[4];
    double m_spare = 0.0;
    bool m_has_spare = false;
};

// Fills `out` with standard normal draws by Marsaglia & Tsang's ziggurat (256 layers): one 64-bit draw per
// sample ~99% of the time (8 bits pick the layer, 53 the position), and exp/log only in the wedges and the
// tail, so it is exact (no approximation of the density) and several times faster than Box-Muller. A different
// sequence from normal(): noise generated with it changed when dsp/noise switched to it.
// ref: Marsaglia & Tsang 2000, "The Ziggurat Method for Generating Random Variables"; Doornik 2005,
//      "An Improved Ziggurat Method to Generate Normal Random Samples" (independent layer and position bits)
void fill_normal(Rng& rng, std::span<float> out);

}  // namespace mtag::dsp
