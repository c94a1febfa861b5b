#pragma once
// What the Adam-like optimizers of their own files (RAdam, diffGrad, AdaBelief) share: torch's option names and
// defaults, and a base that validates betas and eps once, keeps two moment buffers per parameter, and lets a
// cycling schedule set beta1 (as torch's OneCycleLR/CyclicLR do with cycle_momentum).
#include "nn/optim/adam.hpp"
#include "nn/optim/optimizer.hpp"

#include <array>
#include <string>
#include <vector>

namespace mtag::nn {

// The options of an Adam-like optimizer; `DefaultEps` is the one default that differs between them.
template <double DefaultEps = 1e-8>
struct AdamLikeOptions {
    double lr = 1e-3;
    std::array<double, 2> betas = {0.9, 0.999};
    double eps = DefaultEps;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;
};

template <class Options>
class AdamLikeOptimizer : public Optimizer {
  public:
    // Sets beta1 (what torch's cycling schedules change).
    void set_momentum(double beta1) override { set_adam_beta1(m_o.betas, beta1, kind()); }
    std::string kind() const override { return m_kind; }

  protected:
    // `moments` names the two state buffers ("exp_avg", "exp_avg_sq").
    AdamLikeOptimizer(std::string kind, std::vector<ParamGroup> groups, Options o, std::vector<std::string> moments)
        : Optimizer(kind, std::move(groups), {o.lr, o.weight_decay, o.decay_mode, o.decay_bias_and_norm},
                    std::move(moments)),
          m_o(o), m_kind(std::move(kind)) {
        check_adam_family(m_o.betas, m_o.eps, m_kind.c_str());
    }

    Options m_o;

  private:
    std::string m_kind;
};

}  // namespace mtag::nn
