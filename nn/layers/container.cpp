#include "nn/layers/container.hpp"

#include "dsp/error.hpp"
#include "nn/elementwise.hpp"
#include "nn/inference_mode.hpp"

#include <cstring>

namespace mtag::nn {

namespace {
void add_into(const Tensor& dst, const Tensor& src) {
    nn::add_into(dst.data(), src.data(), static_cast<std::int64_t>(dst.size()));
}
}  // namespace

Sequential::Sequential(std::vector<std::shared_ptr<Module>> layers) {
    for (auto& l : layers) add(l);
}

Tensor Sequential::forward(const Tensor& input) {
    Tensor x = input;
    for (std::size_t i = 0; i < m_layers.size(); ++i) {
        // Only the first layer may skip its input gradient, and only if this chain's caller does not need it.
        if (i == 0) m_layers[0]->set_input_grad(input_grad());
        const InputDonation lent(*m_layers[i], x, i > 0);  // x is reassigned: never read again
        x = m_layers[i]->forward(x);
    }
    return x;
}

Tensor Sequential::backward(const Tensor& grad_output) {
    Tensor g = grad_output;
    for (std::size_t i = m_layers.size(); i-- > 0;) {
        g = m_layers[i]->backward(g);
        if (!g.defined()) break;
    }
    return g;
}

nlohmann::json Sequential::config() const {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : m_layers) layers.push_back(l->config());
    return {{"type", type()}, {"layers", layers}};
}

Residual::Residual(std::shared_ptr<Module> body, std::shared_ptr<Module> shortcut)
    : m_body(std::move(body)), m_shortcut(std::move(shortcut)) {
    register_module("body", m_body);
    if (m_shortcut) register_module("shortcut", m_shortcut);
}

Tensor Residual::forward(const Tensor& input) {
    m_body->set_input_grad(input_grad());
    if (m_shortcut) m_shortcut->set_input_grad(input_grad());
    Tensor y = m_body->forward(input);
    const Tensor s = m_shortcut ? m_shortcut->forward(input) : input;
    if (!(y.shape() == s.shape()))
        throw Error("nn::Residual", "body output " + y.shape().str() + " and shortcut output " +
                                        s.shape().str() + " differ; add a projection shortcut");
    m_body_shape = y.shape();
    Tensor out = Tensor::uninitialized(y.shape());
    nn::add(y.data(), s.data(), out.data(), static_cast<std::int64_t>(out.size()));
    return out;
}

Tensor Residual::backward(const Tensor& g) {
    const Tensor shared = g;  // a second handle: neither branch may consume g, both need it
    Tensor gb = m_body->backward(shared);
    Tensor gs = m_shortcut ? m_shortcut->backward(shared) : shared;
    if (!input_grad()) return {};
    Tensor gx = gb.clone();
    add_into(gx, gs);
    return gx;
}

nlohmann::json Residual::config() const {
    nlohmann::json j{{"type", type()}, {"body", m_body->config()}};
    if (m_shortcut) j["shortcut"] = m_shortcut->config();
    return j;
}

Branch::Branch(std::vector<std::shared_ptr<Module>> branches, Merge merge)
    : m_branches(std::move(branches)), m_merge(merge) {
    if (m_branches.empty()) throw Error("nn::Branch", "needs at least one branch");
    for (std::size_t i = 0; i < m_branches.size(); ++i) register_module(std::to_string(i), m_branches[i]);
}

Tensor Branch::forward(const Tensor& input) {
    std::vector<Tensor> outs;
    m_shapes.clear();
    for (auto& b : m_branches) {
        b->set_input_grad(input_grad());
        outs.push_back(b->forward(input));
        m_shapes.push_back(outs.back().shape());
    }
    const Shape& first = outs[0].shape();
    if (m_merge == Merge::sum) {
        Tensor y = outs[0].clone();
        for (std::size_t i = 1; i < outs.size(); ++i) {
            if (!(outs[i].shape() == first))
                throw Error("nn::Branch", "branch " + std::to_string(i) + " output " + outs[i].shape().str() +
                                              ", expected " + first.str() + " (sum merge)");
            add_into(y, outs[i]);
        }
        return y;
    }
    Shape out_shape = first;
    std::int64_t channels = 0;
    for (std::size_t i = 0; i < outs.size(); ++i) {
        Shape s = outs[i].shape();
        s[1] = first[1];
        if (!(s == first) || first.rank() < 2)
            throw Error("nn::Branch", "branch " + std::to_string(i) + " output " + outs[i].shape().str() +
                                          " cannot be concatenated with " + first.str() + " along channels");
        channels += outs[i].dim(1);
    }
    out_shape[1] = channels;
    Tensor y = Tensor::uninitialized(out_shape);
    const std::int64_t n = first[0];
    const std::int64_t inner = first.numel() / (first[0] * first[1]);
    for (std::int64_t b = 0; b < n; ++b) {
        float* dst = y.data() + b * channels * inner;
        for (const Tensor& o : outs) {
            const std::int64_t block = o.dim(1) * inner;
            std::memcpy(dst, o.data() + b * block, static_cast<std::size_t>(block) * sizeof(float));
            dst += block;
        }
    }
    return y;
}

Tensor Branch::backward(const Tensor& g) {
    if (m_shapes.empty()) throw Error("nn::Branch", "backward() called before forward()");
    Tensor gx;
    std::int64_t offset = 0;
    const std::int64_t n = g.dim(0);
    for (std::size_t i = 0; i < m_branches.size(); ++i) {
        Tensor gi;
        if (m_merge == Merge::sum) {
            gi = g;
        } else {
            const Shape& s = m_shapes[i];
            gi = Tensor::uninitialized(s);
            const std::int64_t inner = s.numel() / (s[0] * s[1]);
            const std::int64_t total = g.dim(1) * inner, block = s[1] * inner;
            for (std::int64_t b = 0; b < n; ++b)
                std::memcpy(gi.data() + b * block, g.data() + b * total + offset * inner,
                            static_cast<std::size_t>(block) * sizeof(float));
            offset += s[1];
        }
        Tensor part = m_branches[i]->backward(gi);
        if (!input_grad()) continue;
        if (!gx.defined())
            gx = part.clone();
        else
            add_into(gx, part);
    }
    return gx;
}

nlohmann::json Branch::config() const {
    nlohmann::json bs = nlohmann::json::array();
    for (const auto& b : m_branches) bs.push_back(b->config());
    return {{"type", type()}, {"merge", m_merge == Merge::sum ? "sum" : "concat"}, {"branches", bs}};
}

}  // namespace mtag::nn
