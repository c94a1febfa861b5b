#pragma once
// Cosine annealing, without and with warm restarts (SGDR).
// ref: Loshchilov & Hutter 2017, "SGDR"; torch CosineAnnealingLR, CosineAnnealingWarmRestarts.
#include "nn/schedule/lr_schedule.hpp"

namespace mtag::nn {

// eta_min + (lr - eta_min) (1 + cos(pi t / t_max)) / 2. Past t_max the curve continues periodically,
// as torch's CosineAnnealingLR does when stepped on (use the warm-restart schedule for SGDR).
struct CosineAnnealingOptions {
    double lr = 1e-3;
    std::int64_t t_max = 100;
    double eta_min = 0;
};
class CosineAnnealing : public LrSchedule {
public:
    explicit CosineAnnealing(CosineAnnealingOptions options);
    std::string kind() const override { return "cosine"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    CosineAnnealingOptions m_o;
};

// Cosine annealing restarted every T_i steps, T_0 first and T_i = T_0 * t_mult^i after each restart.
struct CosineWarmRestartsOptions {
    double lr = 1e-3;
    std::int64_t t_0 = 10;
    std::int64_t t_mult = 1;
    double eta_min = 0;
};
class CosineWarmRestarts : public LrSchedule {
public:
    explicit CosineWarmRestarts(CosineWarmRestartsOptions options);
    std::string kind() const override { return "cosine_warm_restarts"; }

protected:
    double lr_at(std::int64_t t) const override;

private:
    CosineWarmRestartsOptions m_o;
};

}  // namespace mtag::nn
