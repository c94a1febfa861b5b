#pragma once
// Opt-in wall-time totals per layer type ("Conv2d", "BatchNorm2d", "MaxPool1d"...), forward and backward
// apart, for `mtag bench train`'s "where the time goes" table, and per layer instance (its dotted name,
// type and input shape) for the per-layer table of `--profile`. Containers (Chain, TaggingModel stages,
// ResBlock2d) time each leaf layer they call through profiled(); nested leaves are not counted twice
// because only modules without children (or those listed as opaque, e.g. SqueezeExcitation) are timed.
// Off by default: then profiled() costs one relaxed atomic load per layer call.
#include "nn/module.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace mtag::nn {

// Totals of one layer type since the last reset_layer_profile().
struct LayerTime {
    std::string type;
    double forward_seconds = 0, backward_seconds = 0;
    long calls = 0;  // forward calls
};

namespace detail {
extern std::atomic<bool> g_layer_profiling;
void add_layer_time(const Module& m, const Tensor& x, bool backward, double seconds);
bool is_profiled_leaf(const Module& m);
}  // namespace detail

// Switches per-layer timing on or off (process-wide; call from the thread that runs the model).
void set_layer_profiling(bool on);
// Totals per layer type, largest forward + backward first.
std::vector<LayerTime> layer_profile();
// Totals per layer instance in the order of their first forward call; `type` reads
// "layer2.conv_1 Conv2d 128->128 k3x3 s2x2 in [16, 128, 64, 116]".
std::vector<LayerTime> layer_instance_profile();
void reset_layer_profile();

// Runs m.forward(x) (backward = false) or m.backward(x), timing it when profiling is on and m is a leaf.
inline Tensor profiled(Module& m, const Tensor& x, bool backward) {
    if (!detail::g_layer_profiling.load(std::memory_order_relaxed) || !detail::is_profiled_leaf(m))
        return backward ? m.backward(x) : m.forward(x);
    const auto t0 = std::chrono::steady_clock::now();
    Tensor y = backward ? m.backward(x) : m.forward(x);
    detail::add_layer_time(m, x, backward,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return y;
}

// Runs call() (a backward of m by another entry point, e.g. ConvBase::backward_accumulate), timed as m's
// backward of x when profiling is on and m is a leaf.
template <class F>
Tensor profiled_backward(Module& m, const Tensor& x, F&& call) {
    if (!detail::g_layer_profiling.load(std::memory_order_relaxed) || !detail::is_profiled_leaf(m)) return call();
    const auto t0 = std::chrono::steady_clock::now();
    Tensor y = call();
    detail::add_layer_time(m, x, true, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return y;
}

}  // namespace mtag::nn
