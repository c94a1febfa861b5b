// Optimizer base: groups, weight decay, state keyed by parameter name; see optimizer.hpp.
#include "nn/optim/optimizer.hpp"

#include "nn/optim/weight_decay.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace mtag::nn {
namespace {

std::string num(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace

void require_optim_range(double value, double lo, double hi, const char* optimizer, const char* name,
                         bool lo_open, bool hi_open) {
    const bool ok =
        std::isfinite(value) && (lo_open ? value > lo : value >= lo) && (hi_open ? value < hi : value <= hi);
    if (!ok)
        throw Error(std::string(optimizer) + " option " + name, "got " + num(value) + ", expected in " +
                                                                    (lo_open ? "(" : "[") + num(lo) + ", " +
                                                                    num(hi) + (hi_open ? ")" : "]"));
}

std::vector<ParamGroup> single_group(std::vector<Parameter*> params) {
    std::vector<ParamGroup> groups(1);
    groups[0].params = std::move(params);
    return groups;
}

Optimizer::Optimizer(std::string kind, std::vector<ParamGroup> groups, const OptimizerCommon& common,
                     std::vector<std::string> buffer_names)
    : m_kind(std::move(kind)),
      m_common(common),
      m_base_lr(common.lr),
      m_buffer_names(std::move(buffer_names)) {
    require_optim_range(common.lr, 0, 1e6, m_kind.c_str(), "lr", true);
    require_optim_range(common.weight_decay, 0, 1e6, m_kind.c_str(), "weight_decay");
    if (groups.empty()) throw Error(m_kind, "no parameter groups given");
    std::set<const Parameter*> seen;
    std::set<std::string> keys;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const double lr = groups[g].lr.value_or(common.lr);
        const double wd = groups[g].weight_decay.value_or(common.weight_decay);
        require_optim_range(lr, 0, 1e6, m_kind.c_str(), "group lr", true);
        require_optim_range(wd, 0, 1e6, m_kind.c_str(), "group weight_decay");
        m_groups.push_back({lr, lr, wd});
        for (Parameter* p : groups[g].params) {
            if (!p) throw Error(m_kind, "parameter group " + std::to_string(g) + " holds a null parameter");
            if (!seen.insert(p).second)
                throw Error(m_kind, "parameter '" + p->name + "' appears in more than one group (or twice)");
            if (!(p->grad.shape() == p->value.shape()))
                throw Error(m_kind, "parameter '" + p->name + "' has grad shape " + p->grad.shape().str() +
                                        ", expected its value shape " + p->value.shape().str());
            Slot slot;
            slot.param = p;
            slot.group = g;
            slot.key = p->name.empty() ? "param" + std::to_string(m_slots.size()) : p->name;
            if (!keys.insert(slot.key).second)
                throw Error(m_kind,
                            "two parameters share the name '" + slot.key + "'; state is keyed by name");
            for (std::size_t b = 0; b < m_buffer_names.size(); ++b)
                slot.buffers.emplace_back(p->value.shape());
            m_slots.push_back(std::move(slot));
        }
    }
}

void Optimizer::step() {
    for (Slot& slot : m_slots) {
        Parameter& p = *slot.param;
        if (!p.requires_grad) continue;  // frozen: neither updated nor counted
        const Group& group = m_groups[slot.group];
        float* value = p.data();
        const float* grad = p.grad_data();
        const std::size_t n = p.size();
        if (group.weight_decay != 0 && decays(p, m_common.decay_bias_and_norm)) {
            const float wd = static_cast<float>(group.weight_decay);
            // Grown on first use only: without L1/L2 decay (Adam's default, decoupled AdamW) it stays empty,
            // where sizing it for the largest parameter up front made fcn4's training peak 57 MB larger.
            if (m_scratch.size() < n) m_scratch.resize(n);
            float* g = m_scratch.data();
            switch (m_common.decay_mode) {
                case WeightDecayMode::l2:
                    add_decay_gradient(value, grad, g, n, 0.0f, wd);
                    grad = g;
                    break;
                case WeightDecayMode::l1:
                    add_decay_gradient(value, grad, g, n, wd, 0.0f);
                    grad = g;
                    break;
                case WeightDecayMode::decoupled:
                    decay_decoupled(value, n, group.lr, group.weight_decay);
                    break;
            }
        }
        ++slot.step;
        update(slot, value, grad, n, group.lr);
    }
}

std::vector<ParamGroup> Optimizer::param_groups() const {
    std::vector<ParamGroup> out(m_groups.size());
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
        out[g].lr = m_groups[g].base_lr;
        out[g].weight_decay = m_groups[g].weight_decay;
    }
    for (const Slot& slot : m_slots) out[slot.group].params.push_back(slot.param);
    return out;
}

std::vector<Parameter*> Optimizer::parameters() const {
    std::vector<Parameter*> out;
    for (const Slot& slot : m_slots) out.push_back(slot.param);
    return out;
}

void Optimizer::zero_grad() {
    for (Slot& slot : m_slots) slot.param->zero_grad();
}

void Optimizer::set_momentum(double) {
    throw Error(m_kind, "has no momentum to cycle; build the schedule with cycle_momentum = false");
}

void Optimizer::set_lr(double lr) {
    require_optim_range(lr, 0, 1e6, m_kind.c_str(), "lr (set_lr)");
    m_base_lr = lr;
    for (Group& g : m_groups) g.lr = lr * (g.base_lr / m_common.lr);
}

OptimizerState Optimizer::state() const {
    OptimizerState s;
    s.scalars["kind"] = m_kind;
    s.scalars["lr"] = m_base_lr;
    for (const Group& g : m_groups)
        s.scalars["groups"].push_back({{"lr", g.lr}, {"weight_decay", g.weight_decay}});
    for (const Slot& slot : m_slots) {
        s.scalars["params"].push_back({{"key", slot.key}, {"step", slot.step}});
        for (std::size_t b = 0; b < slot.buffers.size(); ++b)
            s.tensors.emplace_back(slot.key + "." + m_buffer_names[b], slot.buffers[b].clone());
    }
    return s;
}

void Optimizer::load_state(const OptimizerState& s) {
    const std::string ctx = m_kind + " state";
    const std::string kind = s.scalars.value("kind", std::string("<none>"));
    if (kind != m_kind) throw Error(ctx, "saved optimizer is '" + kind + "', expected '" + m_kind + "'");
    const auto& groups = s.scalars.at("groups");
    if (groups.size() != m_groups.size())
        throw Error(ctx, "saved " + std::to_string(groups.size()) + " parameter groups, expected " +
                             std::to_string(m_groups.size()));
    const auto& params = s.scalars.at("params");
    if (params.size() != m_slots.size())
        throw Error(ctx, "saved " + std::to_string(params.size()) + " parameters, expected " +
                             std::to_string(m_slots.size()));
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
        const std::string key = params[i].at("key").get<std::string>();
        if (key != m_slots[i].key)
            throw Error(ctx, "parameter " + std::to_string(i) + " is '" + key + "', expected '" +
                                 m_slots[i].key + "'");
    }
    // Find every buffer before changing anything, so a bad state leaves the optimizer untouched.
    std::vector<const Tensor*> found;
    for (const Slot& slot : m_slots)
        for (std::size_t b = 0; b < slot.buffers.size(); ++b) {
            const std::string name = slot.key + "." + m_buffer_names[b];
            auto it = std::find_if(s.tensors.begin(), s.tensors.end(),
                                   [&](const auto& t) { return t.first == name; });
            if (it == s.tensors.end()) throw Error(ctx, "tensor '" + name + "' missing");
            if (!(it->second.shape() == slot.buffers[b].shape()))
                throw Error(ctx, "tensor '" + name + "' has shape " + it->second.shape().str() +
                                     ", expected " + slot.buffers[b].shape().str());
            found.push_back(&it->second);
        }
    m_base_lr = s.scalars.at("lr").get<double>();
    for (std::size_t g = 0; g < m_groups.size(); ++g) {
        m_groups[g].lr = groups[g].at("lr").get<double>();
        m_groups[g].weight_decay = groups[g].at("weight_decay").get<double>();
    }
    std::size_t k = 0;
    for (std::size_t i = 0; i < m_slots.size(); ++i) {
        m_slots[i].step = params[i].at("step").get<std::int64_t>();
        for (Tensor& buf : m_slots[i].buffers) buf.copy_from(*found[k++]);
    }
}

double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm) {
    if (!(max_norm > 0)) throw Error("clip_grad_norm", "max_norm = " + num(max_norm) + ", expected > 0");
    double sum = 0;
    for (const Parameter* p : params) {
        if (!p->requires_grad) continue;
        const float* g = p->grad_data();
        for (std::size_t i = 0; i < p->size(); ++i) sum += static_cast<double>(g[i]) * g[i];
    }
    const float total = static_cast<float>(std::sqrt(sum));
    const float coef = static_cast<float>(max_norm) / (total + 1e-6f);
    if (coef < 1.0f)
        for (Parameter* p : params) {
            if (!p->requires_grad) continue;
            float* g = p->grad_data();
            for (std::size_t i = 0; i < p->size(); ++i) g[i] *= coef;
        }
    return total;
}

}  // namespace mtag::nn
