#include "nn/models/blocks.hpp"

#include "nn/layers/dropout.hpp"

#include "dsp/error.hpp"
#include "nn/elementwise.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/conv.hpp"
#include "nn/inference_mode.hpp"
#include "nn/layers/pool.hpp"
#include "nn/profile.hpp"

#include <sstream>

namespace mtag::nn::models {

Chain& Chain::add(const std::string& name, std::shared_ptr<Module> layer) {
    register_module(name, layer);
    // BatchNorm then an activation: the BN's forward applies it (BatchNormBase::fuse_activation).
    if (!m_layers.empty())
        if (auto* bn = dynamic_cast<BatchNormBase*>(m_layers.back().get()))
            if (auto activation = std::dynamic_pointer_cast<Activation>(layer)) bn->fuse_activation(activation);
    m_layers.push_back(std::move(layer));
    return *this;
}

Tensor Chain::forward(const Tensor& input) {
    Tensor x = input;
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
        if (i == 0) m_layers[0]->set_input_grad(input_grad());
        const InputDonation lent(*m_layers[i], x, i > 0);  // x is reassigned below: never read again
        x = profiled(*m_layers[i], x, false);
        // The activation after a BN ran inside the BN's forward: skip it.
        if (const auto* bn = dynamic_cast<const BatchNormBase*>(m_layers[i].get()); bn && bn->fused_activation_applied())
            ++i;
    }
    return x;
}

Tensor Chain::backward(const Tensor& grad_output) {
    Tensor g = grad_output;
    for (std::size_t i = m_layers.size(); i-- > 0;) {
        g = profiled(*m_layers[i], g, true);
        if (!g.defined()) break;
    }
    return g;
}

nlohmann::json Chain::config() const {
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t i = 0; i < m_layers.size(); ++i)
        layers.push_back({{"name", children()[i].first}, {"module", m_layers[i]->config()}});
    return {{"type", type()}, {"layers", layers}};
}

std::shared_ptr<Chain> conv_block_2d(const ConvBlockOptions& o) {
    auto block = std::make_shared<Chain>();
    block->add("conv", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                              .out_channels = o.out_channels * o.activation.width(),
                                                              .kernel_size = o.kernel,
                                                              .stride = o.stride,
                                                              .padding = o.padding}));
    if (o.batch_norm)
        block->add("bn", std::make_shared<BatchNorm2d>(BatchNormOptions{
                             .num_features = o.out_channels * o.activation.width(), .eps = o.bn_eps,
                             .use_batch_stats_in_eval = o.bn_batch_stats_in_eval}));
    block->add(o.activation.name(), make_activation(o.activation));
    if (o.pool[0] > 1 || o.pool[1] > 1)
        block->add("mp", std::make_shared<MaxPool2d>(Pool2dOptions{.kernel_size = o.pool}));
    if (o.dropout > 0) block->add("dropout", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
    return block;
}

std::shared_ptr<Chain> conv_block_1d(const ConvBlockOptions& o) {
    auto block = std::make_shared<Chain>();
    block->add("conv", std::make_shared<Conv1d>(Conv1dOptions{.in_channels = o.in_channels,
                                                              .out_channels = o.out_channels * o.activation.width(),
                                                              .kernel_size = o.kernel[1],
                                                              .stride = o.stride[1],
                                                              .padding = o.padding[1]}));
    if (o.batch_norm)
        block->add("bn", std::make_shared<BatchNorm1d>(BatchNormOptions{
                             .num_features = o.out_channels * o.activation.width(), .eps = o.bn_eps,
                             .use_batch_stats_in_eval = o.bn_batch_stats_in_eval}));
    block->add(o.activation.name(), make_activation(o.activation));
    if (o.pool[1] > 1) block->add("mp", std::make_shared<MaxPool1d>(Pool1dOptions{.kernel_size = o.pool[1]}));
    if (o.dropout > 0) block->add("dropout", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}));
    return block;
}

namespace {
std::shared_ptr<Module> conv3x3(std::int64_t in, std::int64_t out, std::array<std::int64_t, 2> stride) {
    return std::make_shared<Conv2d>(Conv2dOptions{
        .in_channels = in, .out_channels = out, .kernel_size = {3, 3}, .stride = stride, .padding = {1, 1}});
}
std::shared_ptr<Module> bn2d(std::int64_t c) {
    return std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = c});
}
}  // namespace

ResBlock2d::ResBlock2d(std::int64_t in_channels, std::int64_t out_channels,
                       std::array<std::int64_t, 2> stride, const ActivationSpec& activation)
    : m_in(in_channels), m_out(out_channels), m_stride(stride), m_activation(activation) {
    if (activation.kind == ActivationSpec::Kind::maxout)
        throw Error("nn::models::ResBlock2d", "maxout cannot follow a residual sum; choose another activation");
    m_relu_1 = make_activation(activation);
    m_relu_out = make_activation(activation);
    m_conv_1 = register_module("conv_1", conv3x3(in_channels, out_channels, stride));
    m_bn_1 = register_module("bn_1", bn2d(out_channels));
    m_conv_2 = register_module("conv_2", conv3x3(out_channels, out_channels, {1, 1}));
    m_bn_2 = register_module("bn_2", bn2d(out_channels));
    if (stride[0] != 1 || stride[1] != 1 || in_channels != out_channels) {
        m_conv_3 = register_module("conv_3", conv3x3(in_channels, out_channels, stride));
        m_bn_3 = register_module("bn_3", bn2d(out_channels));
    }
}

Tensor ResBlock2d::forward(const Tensor& input) {
    m_conv_1->set_input_grad(input_grad());
    auto fwd = [](Module& m, const Tensor& x) { return profiled(m, x, false); };
    Tensor y = fwd(*m_bn_2, fwd(*m_conv_2, fwd(*m_relu_1, fwd(*m_bn_1, fwd(*m_conv_1, input)))));
    Tensor s = input;
    if (m_conv_3) {
        m_conv_3->set_input_grad(input_grad());
        s = fwd(*m_bn_3, fwd(*m_conv_3, input));
    }
    if (!(y.shape() == s.shape()))
        throw Error("nn::models::ResBlock2d",
                    "body output " + y.shape().str() + " and shortcut " + s.shape().str() + " differ");
    // The sum overwrites y when nobody else holds it (BN keeps no output in training), else a fresh tensor.
    Tensor sum = gradient_buffer(y);
    nn::add(y.data(), s.data(), sum.data(), static_cast<std::int64_t>(sum.size()));
    return fwd(*m_relu_out, sum);
}

Tensor ResBlock2d::backward(const Tensor& grad_output) {
    auto bwd = [](Module& m, const Tensor& g) { return profiled(m, g, true); };
    const Tensor g = bwd(*m_relu_out, grad_output);
    auto* conv_1 = dynamic_cast<Conv2d*>(m_conv_1.get());
    if (m_conv_3 && input_grad() && conv_1) {
        // The shortcut first, then conv_1 adds its input gradient into the shortcut's: one input-sized gradient
        // alive instead of two (the body's, then the shortcut's, summed), which was short_chunk_resnet's
        // training peak. The same sums, element by element (ConvBase::backward_accumulate).
        Tensor gs = bwd(*m_conv_3, bwd(*m_bn_3, g));
        const Tensor gb = bwd(*m_bn_1, bwd(*m_relu_1, bwd(*m_conv_2, bwd(*m_bn_2, g))));
        return profiled_backward(*conv_1, gb, [&] { return conv_1->backward_accumulate(gb, std::move(gs)); });
    }
    Tensor gx = bwd(*m_conv_1, bwd(*m_bn_1, bwd(*m_relu_1, bwd(*m_conv_2, bwd(*m_bn_2, g)))));
    Tensor gs = m_conv_3 ? bwd(*m_conv_3, bwd(*m_bn_3, g)) : g;
    if (!input_grad()) return {};
    nn::add_into(gx.data(), gs.data(), static_cast<std::int64_t>(gx.size()));
    return gx;
}

nlohmann::json ResBlock2d::config() const {
    nlohmann::json j = {{"type", type()}, {"in_channels", m_in}, {"out_channels", m_out}, {"stride", m_stride}};
    if (m_activation.kind != ActivationSpec::Kind::relu) j["activation"] = m_activation;
    return j;
}

std::string describe(const Module& m) {
    const nlohmann::json c = m.config();
    const std::string t = m.type();
    std::ostringstream s;
    auto pair = [](const nlohmann::json& j) {
        if (j.is_array()) return j[0].dump() + "x" + j[1].dump();
        return j.dump();
    };
    if (t == "Conv2d" || t == "Conv1d") {
        s << t << " " << c["in_channels"] << "->" << c["out_channels"] << " k" << pair(c["kernel_size"])
          << " s" << pair(c["stride"]) << " p" << pair(c["padding"]);
    } else if (t == "BatchNorm1d" || t == "BatchNorm2d") {
        s << t << "(" << c["num_features"] << ")";
    } else if (t == "MaxPool2d" || t == "MaxPool1d" || t == "AvgPool2d" || t == "AvgPool1d") {
        s << t << "(" << pair(c["kernel_size"]) << ")";
    } else if (t == "Linear") {
        s << "Linear " << c["in_features"] << "->" << c["out_features"];
    } else if (t == "Dropout") {
        s << "Dropout(" << c["p"].get<double>() << ")";
    } else if (t == "GlobalPool") {
        s << "GlobalPool(" << c["mode"].get<std::string>() << " over " << c["axes"].get<std::string>() << ")";
    } else if (t == "SqueezeExcitation") {
        s << "SE(" << c["channels"] << "->" << c["hidden"] << "->" << c["channels"] << ")";
    } else if (t == "ResBlock2d") {
        s << "ResBlock2d " << c["in_channels"] << "->" << c["out_channels"] << " stride "
          << pair(c["stride"]);
    } else if (t == "MultiLevelPool") {
        s << "MultiLevelPool(global max of";
        for (const auto& tap : c["taps"]) s << " " << tap.get<std::string>();
        s << ", concatenated)";
    } else if (t == "Branch") {
        s << "Branch(";
        bool first = true;
        for (const auto& [name, child] : m.children()) {
            s << (first ? "" : " | ") << describe(*child);
            first = false;
        }
        s << (c.value("merge", std::string("concat")) == "sum" ? ", summed)" : ", concatenated)");
    } else if (t == "Chain") {
        const auto* chain = dynamic_cast<const Chain*>(&m);
        bool first = true;
        for (const auto& layer : chain->layers()) {
            s << (first ? "" : ", ") << describe(*layer);
            first = false;
        }
    } else {
        s << t;
    }
    return s.str();
}

}  // namespace mtag::nn::models
