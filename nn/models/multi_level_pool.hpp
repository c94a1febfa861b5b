#pragma once
// Multi-level feature aggregation (Lee et al. 2017, "multi-level and multi-scale"; Kim et al. 2018; Choi et
// al. 2017's transfer-learning features): a global pool of several stages' outputs, concatenated along
// features, as the embedding. MultiLevelPool takes several inputs, so the model calls forward_many /
// backward_many; MultiLevelTaggingModel wires it into the features path (taps forward, their gradients
// summed back into the main path in backward).
#include "nn/layers/global_pool.hpp"
#include "nn/models/tagging_model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

class MultiLevelPool : public Module {
  public:
    // `taps` names the stages pooled, in output order; each is pooled with `pool`.
    MultiLevelPool(std::vector<std::string> taps, GlobalPoolOptions pool);
    Tensor forward(const Tensor&) override;
    Tensor backward(const Tensor&) override;
    std::string type() const override { return "MultiLevelPool"; }
    nlohmann::json config() const override { return {{"type", type()}, {"taps", m_taps}}; }

    // inputs[k]: (N, C_k, ...) -> (N, sum C_k), in tap order.
    Tensor forward_many(const std::vector<Tensor>& inputs);
    // grad (N, sum C_k) -> one gradient per input.
    std::vector<Tensor> backward_many(const Tensor& grad);

  private:
    std::vector<std::string> m_taps;
    std::vector<std::unique_ptr<GlobalPool>> m_pools;
    std::vector<std::int64_t> m_channels;
};

// A TaggingModel whose pooling stage may aggregate several stages' outputs.
class MultiLevelTaggingModel : public TaggingModel {
  protected:
    using TaggingModel::TaggingModel;
    // Adds the aggregation stage `name` over the (already added) stages called `taps`; its output is
    // (N, sum of their channels). A parameter-free stage (block -1).
    void add_multi_level_pool(const std::string& name, const std::vector<std::string>& taps, GlobalPoolOptions pool);
    Tensor features_forward(const Tensor& x, const Observer& observe) override;
    Tensor features_backward(const Tensor& grad) override;

  private:
    std::shared_ptr<MultiLevelPool> m_multi;  // null: a plain chain
    std::vector<std::size_t> m_taps;          // stage indices feeding the aggregation, in order
    std::size_t m_pool_index = 0;
};

}  // namespace mtag::nn::models
