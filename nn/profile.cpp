#include "nn/profile.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace mtag::nn {

namespace {
std::mutex g_mutex;
std::map<std::string, LayerTime> g_times;
}  // namespace

namespace detail {

std::atomic<bool> g_layer_profiling{false};

void add_layer_time(const std::string& type, bool backward, double seconds) {
    std::lock_guard lock(g_mutex);
    LayerTime& t = g_times[type];
    t.type = type;
    if (backward) {
        t.backward_seconds += seconds;
    } else {
        t.forward_seconds += seconds;
        ++t.calls;
    }
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
    std::lock_guard lock(g_mutex);
    std::vector<LayerTime> out;
    for (const auto& [type, t] : g_times) out.push_back(t);
    std::sort(out.begin(), out.end(), [](const LayerTime& a, const LayerTime& b) {
        return a.forward_seconds + a.backward_seconds > b.forward_seconds + b.backward_seconds;
    });
    return out;
}

void reset_layer_profile() {
    std::lock_guard lock(g_mutex);
    g_times.clear();
}

}  // namespace mtag::nn
