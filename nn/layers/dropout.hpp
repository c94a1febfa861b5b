#pragma once
// Inverted dropout: in training each element is zeroed with probability p and survivors are scaled by
// 1/(1-p), so eval is the identity. The mask comes from this layer's own seeded generator (drawn
// serially: the same seed gives the same masks whatever the thread count). ref: torch.nn.Dropout.
#include "nn/module.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace mtag::nn {

struct DropoutOptions {
    double p = 0.5;
    std::uint64_t seed = 0;
};

// The smallest draw r of a 64-bit generator that keeps an element at drop probability p: r >= it exactly
// when std::uniform_real_distribution<double>(0, 1) would turn r into a u >= p.
std::uint64_t dropout_keep_threshold(double p);

class Dropout : public Module {
  public:
    explicit Dropout(const DropoutOptions& options = {});
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Dropout"; }
    nlohmann::json config() const override;
    // Reseeds the mask generator (checkpoint restore, per-run seeds).
    void seed(std::uint64_t seed) { m_rng.seed(seed); }
    // The generator's full state as text (std::mt19937_64 stream format), for bit-identical resumes.
    std::string rng_state() const;
    // Restores a state from rng_state(); throws mtag::Error on malformed text.
    void set_rng_state(const std::string& state);

  private:
    // out = in * 1/(1-p) where the mask keeps, 0 elsewhere (in and out may alias).
    void apply_mask(const float* in, float* out, std::int64_t n) const;

    DropoutOptions m_options;
    std::mt19937_64 m_rng;
    std::vector<std::uint8_t> m_mask;  // 1 = kept, for the last training forward
    bool m_masked = false;             // false when the last forward was the identity
    Shape m_shape;
};

}  // namespace mtag::nn
