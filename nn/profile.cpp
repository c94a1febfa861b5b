#include "nn/profile.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace mtag::nn {

namespace {
std::mutex g_profile_mutex;
std::map<std::string, LayerTime> g_times;
std::map<const Module*, std::size_t> g_instance_index;
std::vector<LayerTime> g_instances;

// "Conv2d 128->128 k3x3 s2x2" for convolutions, the type alone otherwise.
std::string label(const Module& m) {
    std::string s = m.type();
    if (s.rfind("Conv", 0) != 0) return s;
    const nlohmann::json c = m.config();
    const auto pair = [](const nlohmann::json& j) {
        return j.is_array() ? j[0].dump() + "x" + j[1].dump() : j.dump();
    };
    return s + " " + c.value("in_channels", nlohmann::json()).dump() + "->" +
           c.value("out_channels", nlohmann::json()).dump() + " k" + pair(c.value("kernel_size", nlohmann::json())) +
           " s" + pair(c.value("stride", nlohmann::json()));
}
}  // namespace

namespace detail {

std::atomic<bool> g_layer_profiling{false};

void add_layer_time(const Module& m, const Tensor& x, bool backward, double seconds) {
    std::lock_guard lock(g_profile_mutex);
    auto add = [&](LayerTime& t) {
        if (backward) {
            t.backward_seconds += seconds;
        } else {
            t.forward_seconds += seconds;
            ++t.calls;
        }
    };
    LayerTime& t = g_times[m.type()];
    t.type = m.type();
    add(t);
    auto [it, fresh] = g_instance_index.try_emplace(&m, g_instances.size());
    if (fresh) {
        // Named at the first call, normally a forward with the layer's input.
        const std::string name = m.prefix().empty() ? "" : m.prefix() + " ";
        g_instances.push_back({name + label(m) + (backward ? "" : " in " + x.shape().str()), 0, 0, 0});
    }
    add(g_instances[it->second]);
}

bool is_profiled_leaf(const Module& m) {
    // SqueezeExcitation calls its Linear/activation children itself: count it as one layer.
    return m.children().empty() || m.type() == "SqueezeExcitation";
}

}  // namespace detail

void set_layer_profiling(bool on) {
    detail::g_layer_profiling.store(on, std::memory_order_relaxed);
}

std::vector<LayerTime> layer_profile() {
    std::lock_guard lock(g_profile_mutex);
    std::vector<LayerTime> out;
    for (const auto& [type, t] : g_times) out.push_back(t);
    std::sort(out.begin(), out.end(), [](const LayerTime& a, const LayerTime& b) {
        return a.forward_seconds + a.backward_seconds > b.forward_seconds + b.backward_seconds;
    });
    return out;
}

std::vector<LayerTime> layer_instance_profile() {
    std::lock_guard lock(g_profile_mutex);
    return g_instances;
}

void reset_layer_profile() {
    std::lock_guard lock(g_profile_mutex);
    g_times.clear();
    g_instance_index.clear();
    g_instances.clear();
}

}  // namespace mtag::nn
