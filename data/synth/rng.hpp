#pragma once
// A seeded random source whose draws are identical on every platform: std::mt19937_64's output is
// fixed by the standard, but std::uniform_*_distribution are not, so the distributions are ours.
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

namespace mtag::data::synth {

// splitmix64 finaliser: mixes a 64-bit value into a well-spread one (ref: Steele et al. 2014).
constexpr std::uint64_t mix_seed(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A seed for item `index` of stream `stream` under the user's seed, independent of any other item.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
    return mix_seed(mix_seed(mix_seed(seed) ^ stream) ^ index);
}

// Portable draws from mt19937_64.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : m_engine(seed) {}

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }
    // Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [lo, hi] (inclusive); the modulo bias is below 2^-40 for our ranges.
    int integer(int lo, int hi) {
        const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
        return lo + static_cast<int>(m_engine() % span);
    }
    // True with probability p.
    bool chance(double p) { return uniform() < p; }
    // A uniformly chosen element of a non-empty span.
    template <class T>
    const T& pick(std::span<const T> items) {
        return items[static_cast<std::size_t>(integer(0, static_cast<int>(items.size()) - 1))];
    }
    // Fisher-Yates shuffle with our integer draws.
    template <class T>
    void shuffle(std::span<T> items) {
        for (std::size_t i = items.size(); i > 1; --i) {
            const auto j = static_cast<std::size_t>(integer(0, static_cast<int>(i) - 1));
            std::swap(items[i - 1], items[j]);
        }
    }

  private:
    std::mt19937_64 m_engine;
};

}  // namespace mtag::data::synth
