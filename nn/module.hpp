#pragma once
// nn::Module: the layer interface. forward() caches what backward() needs; backward() takes
// d loss / d output, ACCUMULATES parameter gradients (+=, skipped for frozen parameters) and returns
// d loss / d input. One forward must precede each backward (the cache holds the last batch only).
//
// Modules form a tree: a parent registers its children under names ("features", "0", ...) and every
// parameter and buffer gets a dotted hierarchical name ("features.0.weight") that safetensors files
// and optimizer state use. train()/eval() reach every child; freeze() stops gradients for a subtree
// and keeps its BatchNorm layers in eval mode even when the parent trains (fine-tuning).
#include "nn/parameter.hpp"
#include "nn/tensor.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mtag::nn {

// A named non-trainable state tensor (BatchNorm running_mean, running_var, num_batches_tracked).
struct Buffer {
    std::string name;      // full dotted name, as for Parameter
    Tensor value;          // stored as float32 in memory
    bool integer = false;  // saved as int64 (num_batches_tracked), as PyTorch does
};

class Module {
  public:
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    virtual ~Module() = default;

    // Computes the output for a batch and caches what backward needs (in training and in eval mode).
    virtual Tensor forward(const Tensor& input) = 0;
    // Given d loss / d output of the last forward, accumulates parameter grads and returns d loss / d input
    // (an empty Tensor when input gradients were switched off with set_input_grad(false)).
    virtual Tensor backward(const Tensor& grad_output) = 0;
    // The PyTorch-style type name ("Conv2d", "Sequential"), used in model.json.
    virtual std::string type() const = 0;
    // Hyper-parameters that rebuild this module (children included), for model.json.
    virtual nlohmann::json config() const;

    // All parameters of this module and its children, depth-first in registration order.
    std::vector<Parameter*> parameters();
    // All buffers of this module and its children, depth-first in registration order.
    std::vector<Buffer*> buffers();
    // Direct children with their local names.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
        return m_children;
    }
    // Total number of parameter elements (trainable or not).
    std::size_t parameter_count();
    // Zeroes every parameter gradient.
    void zero_grad();

    // Training mode (batch statistics, dropout active) for this module and all children.
    void train(bool on = true);
    // Inference mode (running statistics, dropout off) for this module and all children.
    void eval() { train(false); }
    // True in training mode (always false for a frozen module).
    bool is_training() const { return m_training && !m_frozen; }
    // Freezes (or unfreezes) this subtree: requires_grad = !frozen on every parameter, BN stays in eval.
    void freeze(bool frozen = true);
    bool is_frozen() const { return m_frozen; }

    // When false, backward() may skip computing d loss / d input (first layer of a network).
    void set_input_grad(bool on) { m_input_grad = on; }
    bool input_grad() const { return m_input_grad; }

    // The dotted prefix of this module in its tree ("" for a root).
    const std::string& prefix() const { return m_prefix; }

  protected:
    // Creates a parameter owned by this module; `local` is its name within the module ("weight").
    Parameter& register_parameter(const std::string& local, const Shape& shape, bool is_bias_or_norm = false);
    // Creates a buffer owned by this module.
    Buffer& register_buffer(const std::string& local, const Tensor& value, bool integer = false);
    // Adopts a child under `local` ("0", "features"); renames its parameters below this prefix.
    template <class M>
    std::shared_ptr<M> register_module(const std::string& local, std::shared_ptr<M> child) {
        adopt(local, child);
        return child;
    }
    // Swaps the child registered under `local` for a new one in the same position (its parameters
    // take the old child's prefix); used to re-create an output layer for a new tag count.
    template <class M>
    std::shared_ptr<M> replace_module(const std::string& local, std::shared_ptr<M> child) {
        replace(local, child);
        return child;
    }
    // Hook for modules whose behaviour depends on the mode (BatchNorm, Dropout).
    virtual void on_mode_change() {}

  private:
    void adopt(const std::string& local, std::shared_ptr<Module> child);
    void replace(const std::string& local, std::shared_ptr<Module> child);
    void set_prefix(const std::string& prefix);
    void set_training(bool on);

    std::string m_prefix;
    std::vector<std::pair<std::string, std::unique_ptr<Parameter>>> m_params;  // local name -> parameter
    std::vector<std::pair<std::string, std::unique_ptr<Buffer>>> m_buffers;    // local name -> buffer
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> m_children;
    bool m_training = true;
    bool m_frozen = false;
    bool m_input_grad = true;
};

// The buffer backward() writes d loss / d input into: grad_output itself when nobody else holds its
// storage (see the contract above), otherwise a new uninitialised tensor of the same shape.
Tensor gradient_buffer(const Tensor& grad_output);

// Joins dotted names: join_name("features", "0") == "features.0", join_name("", "weight") == "weight".
std::string join_name(const std::string& prefix, const std::string& local);

// Every module of type M in the tree below `root` (root included), depth-first in registration order.
template <class M>
std::vector<M*> modules_of_type(Module& root) {
    std::vector<M*> out;
    auto visit = [&out](auto& self, Module& m) -> void {
        if (auto* found = dynamic_cast<M*>(&m)) out.push_back(found);
        for (const auto& [name, child] : m.children()) self(self, *child);
    };
    visit(visit, root);
    return out;
}

}  // namespace mtag::nn
