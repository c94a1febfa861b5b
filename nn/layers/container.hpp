#pragma once
// Composition: Sequential (a chain, children named "0", "1", ... as torch.nn.Sequential), Residual
// (y = body(x) + shortcut(x), identity shortcut when none is given; children "body", "shortcut") and
// Branch (children run on the same input; outputs concatenated along channels or summed).
#include "nn/module.hpp"

#include <memory>
#include <vector>

namespace mtag::nn {

class Sequential : public Module {
  public:
    Sequential() = default;
    explicit Sequential(std::vector<std::shared_ptr<Module>> layers);
    // Appends a layer under the next index name; returns it for chaining configuration.
    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> layer) {
        register_module(std::to_string(m_layers.size()), layer);
        m_layers.push_back(layer);
        return layer;
    }
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Sequential"; }
    nlohmann::json config() const override;
    std::size_t size() const { return m_layers.size(); }
    Module& operator[](std::size_t i) const { return *m_layers.at(i); }
    const std::vector<std::shared_ptr<Module>>& layers() const { return m_layers; }

  private:
    std::vector<std::shared_ptr<Module>> m_layers;
};

// y = body(x) + shortcut(x); the shortcut (e.g. a 1x1 conv + BN) may be null for the identity.
class Residual : public Module {
  public:
    explicit Residual(std::shared_ptr<Module> body, std::shared_ptr<Module> shortcut = nullptr);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Residual"; }
    nlohmann::json config() const override;

  private:
    std::shared_ptr<Module> m_body;
    std::shared_ptr<Module> m_shortcut;
    Shape m_body_shape;
};

// Parallel branches over the same input (a multi-branch front end). Concat joins outputs along axis 1
// (channels; other dims must agree); sum adds them (all shapes equal).
class Branch : public Module {
  public:
    enum class Merge { concat, sum };
    explicit Branch(std::vector<std::shared_ptr<Module>> branches, Merge merge = Merge::concat);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Branch"; }
    nlohmann::json config() const override;

  private:
    std::vector<std::shared_ptr<Module>> m_branches;
    Merge m_merge;
    std::vector<Shape> m_shapes;  // each branch's last output shape
};

}  // namespace mtag::nn
