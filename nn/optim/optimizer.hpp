#pragma once
// Optimizer: the shared machinery of every first-order optimizer in mtag: parameter groups (own lr and
// weight decay), frozen parameters skipped, weight decay as L2 / L1 / decoupled with biases and norm
// parameters excluded by default, per-parameter state keyed by the parameter's name (never its
// address), and state save/restore as JSON scalars plus named tensors for checkpoints.
// Numerics follow torch.optim's single-tensor (foreach=False) code paths in float32.
#include "nn/parameter.hpp"
#include "nn/tensor.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

// How weight_decay enters the update.
enum class WeightDecayMode {
    l2,         // g += wd * p (torch's weight_decay argument)
    l1,         // g += wd * sign(p)
    decoupled,  // p *= 1 - lr * wd before the update (AdamW; Loshchilov & Hutter 2019)
};

// A set of parameters with its own learning rate and/or weight decay (unset: the optimizer's option).
struct ParamGroup {
    std::vector<Parameter*> params;
    std::optional<double> lr;
    std::optional<double> weight_decay;
};

// The options every optimizer has; each options struct carries them under the same names.
struct OptimizerCommon {
    double lr = 1e-3;
    double weight_decay = 0;
    WeightDecayMode decay_mode = WeightDecayMode::l2;
    bool decay_bias_and_norm = false;  // true: decay biases and BN/LN scales too (torch does by default)
};

// Checkpointable optimizer state: scalars (kind, rates, step counts) and buffers named
// "<parameter name>.<buffer>" (e.g. "features.0.weight.exp_avg"), ready for a safetensors writer.
struct OptimizerState {
    nlohmann::json scalars;
    std::vector<std::pair<std::string, Tensor>> tensors;
};

// Base class; derived classes implement one update rule.
class Optimizer {
  public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every trainable parameter from its current gradient (gradients are not cleared).
    void step();
    // Zeroes the gradients of all parameters (frozen ones included).
    void zero_grad();
    // Sets the base rate; each group's rate becomes lr * (group base lr / options lr), so groups keep
    // their ratios under a schedule, like torch schedulers scaling each group's initial_lr.
    void set_lr(double lr);
    // The base rate last set (the options' lr until set_lr is called).
    double lr() const { return m_base_lr; }
    // Current rate of group g.
    double group_lr(std::size_t g) const { return m_groups.at(g).lr; }
    std::size_t group_count() const { return m_groups.size(); }
    // The groups as given at construction (each group's lr and weight decay filled in).
    std::vector<ParamGroup> param_groups() const;
    // Every parameter, in group order.
    std::vector<Parameter*> parameters() const;
    // Sets the momentum a cycling schedule asks for: SGD/RMSProp momentum, beta1 for the Adam family
    // (as torch CyclicLR/OneCycleLR do). Throws mtag::Error where there is none to set.
    virtual void set_momentum(double momentum);
    // "sgd", "adam", ...
    virtual std::string kind() const = 0;

    // Deep copy of everything step() depends on.
    OptimizerState state() const;
    // Restores state(); every parameter key, buffer name and shape must match (mtag::Error says
    // got/expected).
    void load_state(const OptimizerState& state);

  protected:
    // One parameter and its state; buffers in the order of the names given to the constructor.
    struct Slot {
        Parameter* param = nullptr;
        std::size_t group = 0;
        std::string key;        // parameter name, or "param<i>" when unnamed
        std::int64_t step = 0;  // updates applied to this parameter (torch's state['step'])
        std::vector<Tensor> buffers;
    };

    Optimizer(std::string kind, std::vector<ParamGroup> groups, const OptimizerCommon& common,
              std::vector<std::string> buffer_names);

    // Applies the rule to one parameter. `grad` already holds L2/L1 decay, decoupled decay has been
    // applied to `value`, and slot.step has been incremented. Must not allocate.
    virtual void update(Slot& slot, float* value, const float* grad, std::size_t n, double lr) = 0;

    std::vector<Slot>& slots() { return m_slots; }

  private:
    struct Group {
        double base_lr;  // the group's lr at construction
        double lr;       // current
        double weight_decay;
    };
    std::string m_kind;
    OptimizerCommon m_common;
    double m_base_lr;
    std::vector<Group> m_groups;
    std::vector<Slot> m_slots;
    std::vector<std::string> m_buffer_names;
    std::vector<float> m_scratch;  // decayed gradient (L1/L2 decay only), grown to the largest decayed parameter
};

// Wraps a plain parameter list as one group.
std::vector<ParamGroup> single_group(std::vector<Parameter*> params);

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before
// clipping. ref: torch.nn.utils.clip_grad_norm_ (coefficient max_norm / (norm + 1e-6), capped at 1).
double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm);

// Validation helpers for options structs: throw mtag::Error("<optimizer> option <name>", got/expected).
void require_optim_range(double value, double lo, double hi, const char* optimizer, const char* name,
                         bool lo_open = false, bool hi_open = false);

}  // namespace mtag::nn
