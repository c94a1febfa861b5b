#pragma once
// Building blocks shared by the tagging models (nn/models/*): a named chain of layers, the
// conv-BN-activation-pool block every family uses, and the two-conv residual block of Won et al. 2020.
// Children carry the attribute names of the PyTorch reference code (sota-music-tagging-models:
// "conv", "bn", "mp"; "conv_1", "bn_1", ...), so safetensors names match a torch twin's state_dict.
#include "nn/layers/activation.hpp"
#include "nn/models/activation_spec.hpp"
#include "nn/module.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

// Layers run in order, each registered under its own name (like attributes of a torch.nn.Module
// called one after the other in forward()). Parameter-free layers are children too, so train/eval
// reaches them.
class Chain : public Module {
  public:
    Chain() = default;
    // Appends `layer` under `name`; returns *this for chaining.
    Chain& add(const std::string& name, std::shared_ptr<Module> layer);
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "Chain"; }
    // {"type": "Chain", "layers": [{"name": ..., "module": <config>}, ...]}
    nlohmann::json config() const override;
    const std::vector<std::shared_ptr<Module>>& layers() const { return m_layers; }

  private:
    std::vector<std::shared_ptr<Module>> m_layers;
};

// Options of a conv block: conv (bias as in the references) -> [BN] -> activation -> [max-pool] -> [dropout].
// With a maxout activation the conv and BN have out_channels * pieces channels and the block still gives
// out_channels.
struct ConvBlockOptions {
    std::int64_t in_channels = 1;
    std::int64_t out_channels = 1;
    std::array<std::int64_t, 2> kernel{3, 3};  // (1, k) for 1-D blocks
    std::array<std::int64_t, 2> stride{1, 1};
    std::array<std::int64_t, 2> padding{1, 1};
    std::array<std::int64_t, 2> pool{1, 1};  // max-pool kernel = stride; {1, 1} = no pooling layer
    bool batch_norm = true;
    double bn_eps = 1e-5;                  // torch's; Keras 1 models use 1e-3 (or 1e-6 for Keras 1.0.x)
    bool bn_batch_stats_in_eval = false;   // Keras 1 BatchNormalization mode 2 (nn/layers/batchnorm.hpp)
    ActivationSpec activation{};
    double dropout = 0.0;                  // a Dropout child "dropout" after the pool when > 0
};

// 2-D block over (N, C, H, W): children conv, bn, relu (named after the activation), mp, dropout.
// ref: sota-music-tagging-models training/modules.py Conv_2d.
std::shared_ptr<Chain> conv_block_2d(const ConvBlockOptions& options);
// 1-D block over (N, C, L) (kernel[1], stride[1], padding[1], pool[1] are used).
// ref: sota-music-tagging-models training/modules.py Conv_1d.
std::shared_ptr<Chain> conv_block_1d(const ConvBlockOptions& options);

// Won et al. 2020's residual block (ref: sota-music-tagging-models modules.py Res_2d):
//   y = relu(bn_2(conv_2(relu(bn_1(conv_1(x))))) + shortcut(x)),
// conv_1 3x3 with `stride`, conv_2 3x3 stride 1; shortcut = bn_3(conv_3(x)) (a 3x3 conv with the same
// stride, as in the reference, not a 1x1) when the stride or channel count changes, else identity.
// `activation` replaces both ReLUs (maxout is refused: the residual sum needs matching widths).
class ResBlock2d : public Module {
  public:
    ResBlock2d(std::int64_t in_channels, std::int64_t out_channels, std::array<std::int64_t, 2> stride,
               const ActivationSpec& activation = {});
    Tensor forward(const Tensor& input) override;
    Tensor backward(const Tensor& grad_output) override;
    std::string type() const override { return "ResBlock2d"; }
    nlohmann::json config() const override;

  private:
    std::int64_t m_in, m_out;
    std::array<std::int64_t, 2> m_stride;
    // Children registered directly under the block, as in the reference: conv_1, bn_1, conv_2, bn_2,
    // and conv_3, bn_3 for a projection shortcut (null otherwise).
    std::shared_ptr<Module> m_conv_1, m_bn_1, m_conv_2, m_bn_2, m_conv_3, m_bn_3;
    ActivationSpec m_activation;
    std::shared_ptr<Module> m_relu_1, m_relu_out;  // not registered: parameter-free, as in the reference
};

// A one-line description of a layer for `mtag model show` ("Conv2d 1->128 k3x3 s1 p1").
std::string describe(const Module& module);

}  // namespace mtag::nn::models
