#include "nn/module.hpp"

#include "dsp/error.hpp"

namespace mtag::nn {

std::string join_name(const std::string& prefix, const std::string& local) {
    if (prefix.empty()) return local;
    if (local.empty()) return prefix;
    return prefix + "." + local;
}

nlohmann::json Module::config() const { return nlohmann::json{{"type", type()}}; }

std::vector<Parameter*> Module::parameters() {
    std::vector<Parameter*> out;
    for (auto& [local, p] : m_params) out.push_back(p.get());
    for (auto& [local, child] : m_children) {
        auto sub = child->parameters();
        out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
}

std::vector<Buffer*> Module::buffers() {
    std::vector<Buffer*> out;
    for (auto& [local, b] : m_buffers) out.push_back(b.get());
    for (auto& [local, child] : m_children) {
        auto sub = child->buffers();
        out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
}

std::size_t Module::parameter_count() {
    std::size_t n = 0;
    for (Parameter* p : parameters()) n += p->size();
    return n;
}

void Module::zero_grad() {
    for (Parameter* p : parameters()) p->zero_grad();
}

void Module::train(bool on) { set_training(on); }

void Module::set_training(bool on) {
    m_training = on;
    for (auto& [local, child] : m_children) child->set_training(on);
    on_mode_change();
}

void Module::freeze(bool frozen) {
    m_frozen = frozen;
    for (auto& [local, p] : m_params) p->requires_grad = !frozen;
    for (auto& [local, child] : m_children) child->freeze(frozen);
    on_mode_change();
}

Parameter& Module::register_parameter(const std::string& local, const Shape& shape, bool is_bias_or_norm) {
    for (auto& [name, p] : m_params)
        if (name == local) throw Error("nn::Module " + type(), "parameter '" + local + "' registered twice");
    m_params.emplace_back(local, std::make_unique<Parameter>(join_name(m_prefix, local), shape, is_bias_or_norm));
    return *m_params.back().second;
}

Buffer& Module::register_buffer(const std::string& local, const Tensor& value, bool integer) {
    for (auto& [name, b] : m_buffers)
        if (name == local) throw Error("nn::Module " + type(), "buffer '" + local + "' registered twice");
    m_buffers.emplace_back(local, std::make_unique<Buffer>(Buffer{join_name(m_prefix, local), value, integer}));
    return *m_buffers.back().second;
}

void Module::adopt(const std::string& local, std::shared_ptr<Module> child) {
    if (!child) throw Error("nn::Module " + type(), "child '" + local + "' is null");
    for (auto& [name, c] : m_children)
        if (name == local) throw Error("nn::Module " + type(), "child '" + local + "' registered twice");
    child->set_prefix(join_name(m_prefix, local));
    m_children.emplace_back(local, std::move(child));
}

void Module::replace(const std::string& local, std::shared_ptr<Module> child) {
    if (!child) throw Error("nn::Module " + type(), "replacement for child '" + local + "' is null");
    for (auto& [name, c] : m_children) {
        if (name != local) continue;
        child->set_prefix(join_name(m_prefix, local));
        child->set_training(m_training);
        c = std::move(child);
        return;
    }
    throw Error("nn::Module " + type(), "no child '" + local + "' to replace");
}

void Module::set_prefix(const std::string& prefix) {
    m_prefix = prefix;
    for (auto& [local, p] : m_params) p->name = join_name(prefix, local);
    for (auto& [local, b] : m_buffers) b->name = join_name(prefix, local);
    for (auto& [local, child] : m_children) child->set_prefix(join_name(prefix, local));
}

}  // namespace mtag::nn
