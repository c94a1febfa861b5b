#pragma once
// Adam with bias correction, its AMSGrad variant, and AdamW (decoupled weight decay).
// ref: Kingma & Ba 2015, Algorithm 1; Reddi et al. 2018 (AMSGrad); Loshchilov & Hutter 2019 (AdamW);
//      torch.optim.Adam / AdamW: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; (AMSGrad: vmax = max(vmax, v));
//      p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)   (eps after the bias correction, as torch).
#include "nn/optim/optimizer.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace mtag::nn {

struct AdamOptions {
    double lr = 1e-3;
    std::array<double, 2> betas = {0.9, 0.999};
    double eps = 1e-8;
    bool amsgrad = false;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;  // torch Adam: L2 added to the gradient
    bool decay_bias_and_norm = false;
};

// AdamW's defaults differ only in the decay (torch.optim.AdamW: weight_decay 1e-2, decoupled).
struct AdamWOptions {
    double lr = 1e-3;
    std::array<double, 2> betas = {0.9, 0.999};
    double eps = 1e-8;
    bool amsgrad = false;
    double weight_decay = 1e-2;
    bool decay_bias_and_norm = false;
};

class Adam : public Optimizer {
  public:
    Adam(std::vector<ParamGroup> groups, AdamOptions options);
    Adam(std::vector<Parameter*> params, AdamOptions options)
        : Adam(single_group(std::move(params)), options) {}
    // Sets beta1 (what torch's cycling schedules change).
    void set_momentum(double beta1) override;
    std::string kind() const override { return m_kind; }

  protected:
    Adam(std::vector<ParamGroup> groups, AdamOptions options, std::string kind);
    void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) override;

  private:
    AdamOptions m_o;
    std::string m_kind;
};

// Adam with decoupled weight decay: p *= 1 - lr wd before each Adam step.
class AdamW : public Adam {
  public:
    AdamW(std::vector<ParamGroup> groups, AdamWOptions options);
    AdamW(std::vector<Parameter*> params, AdamWOptions options)
        : AdamW(single_group(std::move(params)), options) {}
};

// Validates betas in [0, 1) and eps >= 0 for the Adam family.
void check_adam_family(const std::array<double, 2>& betas, double eps, const char* optimizer);

// The Adam family's set_momentum: validates beta1 in [0, 1) (named after `optimizer` in the
// message) and stores it in betas[0].
void set_adam_beta1(std::array<double, 2>& betas, double beta1, const std::string& optimizer);

// Float constants of one Adam-style step at step t (1-based), computed once per parameter slot:
// bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t (rounded to float after the double pow),
// the decay factors and their complements. ref: Kingma & Ba 2015, Algorithm 1.
struct AdamStepConstants {
    AdamStepConstants(const std::array<double, 2>& betas, double eps, std::int64_t step, double lr);
    float bc1, bc2;
    float b1, omb1;  // beta1, 1 - beta1
    float b2, omb2;  // beta2, 1 - beta2
    float eps, lr;
};

}  // namespace mtag::nn
