#include "nn/train/ema.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <map>

namespace mtag::nn {

ExponentialMovingAverage::ExponentialMovingAverage(Module& model, EmaOptions options) : m_options(options) {
    if (!(options.decay >= 0 && options.decay < 1))
        throw Error("ema.decay", "got " + std::to_string(options.decay) + ", expected a value in [0, 1) such as 0.999");
    for (Parameter* p : model.parameters()) m_slots.push_back({p->name, &p->value, p->value.clone(), false});
    if (options.use_buffers)
        for (Buffer* b : model.buffers()) m_slots.push_back({b->name, &b->value, b->value.clone(), b->integer});
}

void ExponentialMovingAverage::update() {
    const auto decay = static_cast<float>(m_options.decay);
    for (Slot& s : m_slots) {
        float* avg = s.average.data();
        const float* w = s.live->data();
        const std::size_t n = s.average.size();
        if (m_updates == 0 || s.integer) {
            std::copy(w, w + n, avg);
        } else {
            // avg + (1 - decay)(w - avg): torch's lerp form, exact when w == avg.
            for (std::size_t i = 0; i < n; ++i) avg[i] += (1.0f - decay) * (w[i] - avg[i]);
        }
    }
    ++m_updates;
}

void ExponentialMovingAverage::swap() {
    if (m_updates == 0) return;
    for (Slot& s : m_slots) {
        float* a = s.average.data();
        float* w = s.live->data();
        std::swap_ranges(a, a + s.average.size(), w);
    }
}

std::vector<std::pair<std::string, Tensor>> ExponentialMovingAverage::state() const {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const Slot& s : m_slots) out.emplace_back("ema." + s.name, s.average.clone());
    return out;
}

void ExponentialMovingAverage::load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                          std::int64_t updates) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [n, t] : tensors) by_name[n] = &t;
    for (Slot& s : m_slots) {
        const auto it = by_name.find("ema." + s.name);
        if (it == by_name.end())
            throw Error("checkpoint", "has no averaged weights 'ema." + s.name +
                                          "' although the run uses ema; it was written by a run without ema");
        s.average.copy_from(*it->second);
    }
    m_updates = updates;
}

}  // namespace mtag::nn
