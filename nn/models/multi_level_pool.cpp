#include "nn/models/multi_level_pool.hpp"

#include "dsp/error.hpp"
#include "nn/profile.hpp"

#include <cstring>

namespace mtag::nn::models {

MultiLevelPool::MultiLevelPool(std::vector<std::string> taps, GlobalPoolOptions pool) : m_taps(std::move(taps)) {
    for (std::size_t i = 0; i < m_taps.size(); ++i) m_pools.push_back(std::make_unique<GlobalPool>(pool));
}

Tensor MultiLevelPool::forward(const Tensor&) {
    throw Error("MultiLevelPool", "takes several inputs (forward_many)");
}

Tensor MultiLevelPool::backward(const Tensor&) {
    throw Error("MultiLevelPool", "takes several inputs (backward_many)");
}

Tensor MultiLevelPool::forward_many(const std::vector<Tensor>& inputs) {
    std::vector<Tensor> pooled;
    m_channels.clear();
    std::int64_t total = 0;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        pooled.push_back(m_pools[k]->forward(inputs[k]));
        m_channels.push_back(pooled.back().dim(1));
        total += m_channels.back();
    }
    const std::int64_t n = inputs[0].dim(0);
    Tensor y = Tensor::uninitialized({n, total});
    for (std::int64_t b = 0; b < n; ++b) {
        float* dst = y.data() + b * total;
        for (std::size_t k = 0; k < pooled.size(); ++k) {
            std::memcpy(dst, pooled[k].data() + b * m_channels[k],
                        static_cast<std::size_t>(m_channels[k]) * sizeof(float));
            dst += m_channels[k];
        }
    }
    return y;
}

std::vector<Tensor> MultiLevelPool::backward_many(const Tensor& grad) {
    std::vector<Tensor> out;
    const std::int64_t n = grad.dim(0), total = grad.dim(1);
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < m_pools.size(); ++k) {
        Tensor part = Tensor::uninitialized({n, m_channels[k]});
        for (std::int64_t b = 0; b < n; ++b)
            std::memcpy(part.data() + b * m_channels[k], grad.data() + b * total + offset,
                        static_cast<std::size_t>(m_channels[k]) * sizeof(float));
        offset += m_channels[k];
        out.push_back(m_pools[k]->backward(part));
    }
    return out;
}

void MultiLevelTaggingModel::add_multi_level_pool(const std::string& name, const std::vector<std::string>& taps,
                                                  GlobalPoolOptions pool) {
    for (const std::string& tap : taps)
        for (std::size_t i = 0; i < stages().size(); ++i)
            if (stages()[i].name == tap) m_taps.push_back(i);
    if (m_taps.size() != taps.size()) throw Error("MultiLevelPool " + name, "taps a stage the model does not have");
    m_multi = std::make_shared<MultiLevelPool>(taps, pool);
    add_stage(name, m_multi, -1);
    m_pool_index = stages().size() - 1;
}

Tensor MultiLevelTaggingModel::features_forward(const Tensor& x, const Observer& observe) {
    if (!m_multi) return TaggingModel::features_forward(x, observe);
    route_input_grads();
    std::vector<Tensor> tapped;
    Tensor h = x;
    for (std::size_t i = 0; i < stages().size(); ++i) {
        const Stage& s = stages()[i];
        h = i == m_pool_index ? m_multi->forward_many(tapped) : profiled(*s.module, h, false);
        for (std::size_t t : m_taps)
            if (t == i) tapped.push_back(h);
        if (observe) observe(s, h);
    }
    return h;
}

Tensor MultiLevelTaggingModel::features_backward(const Tensor& grad) {
    if (!m_multi) return TaggingModel::features_backward(grad);
    Tensor g = grad;
    std::vector<Tensor> pending;  // gradient of each tap's output coming through the aggregation
    for (std::size_t i = stages().size(); i-- > 0;) {
        if (i == m_pool_index) {
            pending = m_multi->backward_many(g);
            g = Tensor();
            continue;
        }
        if (i < m_pool_index) {
            for (std::size_t k = 0; k < m_taps.size(); ++k) {
                if (m_taps[k] != i) continue;
                if (!g.defined()) {
                    g = pending[k].clone();
                } else {
                    float* d = g.data();
                    const float* p = pending[k].data();
                    for (std::size_t e = 0; e < g.size(); ++e) d[e] += p[e];
                }
            }
            if (!g.defined()) break;  // a frozen stage above stopped the gradient
        }
        g = backward_stage(i, g);
        if (!g.defined() && i > m_pool_index) break;
    }
    return g;
}

}  // namespace mtag::nn::models
