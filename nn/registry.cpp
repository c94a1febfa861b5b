#include "nn/registry.hpp"

#include "dsp/error.hpp"
#include "nn/layers/activation.hpp"
#include "nn/layers/batchnorm.hpp"
#include "nn/layers/container.hpp"
#include "nn/layers/conv.hpp"
#include "nn/layers/dropout.hpp"
#include "nn/layers/flatten.hpp"
#include "nn/layers/global_pool.hpp"
#include "nn/layers/gru.hpp"
#include "nn/layers/linear.hpp"
#include "nn/layers/maxout.hpp"
#include "nn/layers/lstm.hpp"
#include "nn/layers/padding.hpp"
#include "nn/layers/permute.hpp"
#include "nn/layers/pool.hpp"
#include "nn/layers/reshape.hpp"
#include "nn/layers/squeeze_excitation.hpp"
#include "nn/models/zoo.hpp"

#include <map>
#include <mutex>

namespace mtag::nn {

namespace {

using json = nlohmann::json;

template <class T>
T get(const json& c, const std::string& key, const T& fallback) {
    if (!c.contains(key)) return fallback;
    try {
        return c.at(key).get<T>();
    } catch (const json::exception&) {
        throw Error("model architecture " + c.value("type", std::string("?")),
                    "key '" + key + "' has the wrong type: " + c.at(key).dump());
    }
}

template <class T>
T require(const json& c, const std::string& key) {
    if (!c.contains(key))
        throw Error("model architecture " + c.value("type", std::string("?")), "missing key '" + key + "'");
    return get<T>(c, key, T{});
}

using Pair = std::array<std::int64_t, 2>;

std::vector<std::shared_ptr<Module>> children(const json& c, const std::string& key) {
    std::vector<std::shared_ptr<Module>> out;
    for (const json& sub : require<json>(c, key)) out.push_back(build_module(sub));
    return out;
}

std::map<std::string, ModuleFactory> builtin() {
    std::map<std::string, ModuleFactory> f;
    f["Conv2d"] = [](const json& c) {
        return std::make_shared<Conv2d>(
            Conv2dOptions{require<std::int64_t>(c, "in_channels"), require<std::int64_t>(c, "out_channels"),
                          get<Pair>(c, "kernel_size", {3, 3}), get<Pair>(c, "stride", {1, 1}),
                          get<Pair>(c, "padding", {0, 0}), get<Pair>(c, "dilation", {1, 1}),
                          get<bool>(c, "padding_same", false), get<bool>(c, "bias", true)});
    };
    f["Conv1d"] = [](const json& c) {
        return std::make_shared<Conv1d>(
            Conv1dOptions{require<std::int64_t>(c, "in_channels"), require<std::int64_t>(c, "out_channels"),
                          get<std::int64_t>(c, "kernel_size", 3), get<std::int64_t>(c, "stride", 1),
                          get<std::int64_t>(c, "padding", 0), get<std::int64_t>(c, "dilation", 1),
                          get<bool>(c, "padding_same", false), get<bool>(c, "bias", true)});
    };
    f["Linear"] = [](const json& c) {
        return std::make_shared<Linear>(LinearOptions{require<std::int64_t>(c, "in_features"),
                                                      require<std::int64_t>(c, "out_features"),
                                                      get<bool>(c, "bias", true)});
    };
    auto bn = [](const json& c) {
        return BatchNormOptions{require<std::int64_t>(c, "num_features"),
                                get<double>(c, "eps", 1e-5),
                                get<double>(c, "momentum", 0.1),
                                get<bool>(c, "affine", true),
                                get<bool>(c, "track_running_stats", true),
                                get<std::int64_t>(c, "axis", 1),
                                get<bool>(c, "use_batch_stats_in_eval", false)};
    };
    f["BatchNorm1d"] = [bn](const json& c) { return std::make_shared<BatchNorm1d>(bn(c)); };
    f["BatchNorm2d"] = [bn](const json& c) { return std::make_shared<BatchNorm2d>(bn(c)); };
    f["ReLU"] = [](const json& c) { return std::make_shared<ReLU>(get<bool>(c, "inplace", false)); };
    f["LeakyReLU"] = [](const json& c) {
        return std::make_shared<LeakyReLU>(get<float>(c, "negative_slope", 0.01f),
                                           get<bool>(c, "inplace", false));
    };
    f["ELU"] = [](const json& c) {
        return std::make_shared<ELU>(get<float>(c, "alpha", 1.0f), get<bool>(c, "inplace", false));
    };
    f["SELU"] = [](const json& c) { return std::make_shared<SELU>(get<bool>(c, "inplace", false)); };
    f["Maxout"] = [](const json& c) {
        return std::make_shared<Maxout>(MaxoutOptions{get<std::int64_t>(c, "pieces", 2)});
    };
    f["Sigmoid"] = [](const json&) { return std::make_shared<Sigmoid>(); };
    f["Tanh"] = [](const json&) { return std::make_shared<Tanh>(); };
    f["HardSigmoid"] = [](const json& c) {
        return std::make_shared<HardSigmoid>(get<float>(c, "slope", 0.2f));
    };
    auto p2 = [](const json& c) {
        return Pool2dOptions{require<Pair>(c, "kernel_size"), get<Pair>(c, "stride", {0, 0}),
                             get<Pair>(c, "padding", {0, 0}), get<bool>(c, "ceil_mode", false)};
    };
    auto p1 = [](const json& c) {
        return Pool1dOptions{require<std::int64_t>(c, "kernel_size"), get<std::int64_t>(c, "stride", 0),
                             get<std::int64_t>(c, "padding", 0), get<bool>(c, "ceil_mode", false)};
    };
    f["MaxPool2d"] = [p2](const json& c) { return std::make_shared<MaxPool2d>(p2(c)); };
    f["AvgPool2d"] = [p2](const json& c) { return std::make_shared<AvgPool2d>(p2(c)); };
    f["MaxPool1d"] = [p1](const json& c) { return std::make_shared<MaxPool1d>(p1(c)); };
    f["AvgPool1d"] = [p1](const json& c) { return std::make_shared<AvgPool1d>(p1(c)); };
    f["AdaptiveAvgPool2d"] = [](const json& c) {
        const Pair o = require<Pair>(c, "output_size");
        return std::make_shared<AdaptiveAvgPool2d>(o[0], o[1]);
    };
    f["AdaptiveMaxPool2d"] = [](const json& c) {
        const Pair o = require<Pair>(c, "output_size");
        return std::make_shared<AdaptiveMaxPool2d>(o[0], o[1]);
    };
    f["AdaptiveAvgPool1d"] = [](const json& c) {
        return std::make_shared<AdaptiveAvgPool1d>(require<std::int64_t>(c, "output_size"));
    };
    f["AdaptiveMaxPool1d"] = [](const json& c) {
        return std::make_shared<AdaptiveMaxPool1d>(require<std::int64_t>(c, "output_size"));
    };
    f["GlobalPool"] = [](const json& c) {
        GlobalPoolOptions o;
        const std::string mode = get<std::string>(c, "mode", "avg"),
                          axes = get<std::string>(c, "axes", "all");
        if (mode != "avg" && mode != "max")
            throw Error("model architecture GlobalPool", "mode '" + mode + "', expected avg or max");
        if (axes != "all" && axes != "time")
            throw Error("model architecture GlobalPool", "axes '" + axes + "', expected all or time");
        o.mode = mode == "max" ? GlobalPoolOptions::Mode::max : GlobalPoolOptions::Mode::avg;
        o.axes = axes == "time" ? GlobalPoolOptions::Axes::time : GlobalPoolOptions::Axes::all;
        return std::make_shared<GlobalPool>(o);
    };
    // Recurrent layers: sizes, convention ("pytorch" or "keras1") and return_sequences.
    f["GRU"] = [](const json& c) {
        return std::make_shared<GRU>(GruOptions{
            .input_size = require<std::int64_t>(c, "input_size"),
            .hidden_size = require<std::int64_t>(c, "hidden_size"),
            .convention =
                parse_rnn_convention(get<std::string>(c, "convention", "pytorch"), "model architecture GRU"),
            .return_sequences = get<bool>(c, "return_sequences", true)});
    };
    f["LSTM"] = [](const json& c) {
        return std::make_shared<LSTM>(LstmOptions{
            .input_size = require<std::int64_t>(c, "input_size"),
            .hidden_size = require<std::int64_t>(c, "hidden_size"),
            .convention =
                parse_rnn_convention(get<std::string>(c, "convention", "pytorch"), "model architecture LSTM"),
            .return_sequences = get<bool>(c, "return_sequences", true)});
    };
    f["Dropout"] = [](const json& c) {
        return std::make_shared<Dropout>(
            DropoutOptions{get<double>(c, "p", 0.5), get<std::uint64_t>(c, "seed", 0)});
    };
    f["ZeroPad2d"] = [](const json& c) {
        const auto p = require<std::array<std::int64_t, 4>>(c, "padding");  // left, right, top, bottom
        return std::make_shared<ZeroPad2d>(ZeroPad2dOptions{p[0], p[1], p[2], p[3]});
    };
    f["Permute"] = [](const json& c) {
        return std::make_shared<Permute>(PermuteOptions{require<std::vector<std::int64_t>>(c, "dims")});
    };
    f["Reshape"] = [](const json& c) {
        return std::make_shared<Reshape>(ReshapeOptions{require<std::vector<std::int64_t>>(c, "shape")});
    };
    f["Flatten"] = [](const json&) { return std::make_shared<Flatten>(); };
    f["Sequential"] = [](const json& c) { return std::make_shared<Sequential>(children(c, "layers")); };
    f["Residual"] = [](const json& c) {
        return std::make_shared<Residual>(build_module(require<json>(c, "body")),
                                          c.contains("shortcut") ? build_module(c["shortcut"]) : nullptr);
    };
    f["Branch"] = [](const json& c) {
        const std::string merge = get<std::string>(c, "merge", "concat");
        if (merge != "concat" && merge != "sum")
            throw Error("model architecture Branch", "merge '" + merge + "', expected concat or sum");
        return std::make_shared<Branch>(children(c, "branches"),
                                        merge == "sum" ? Branch::Merge::sum : Branch::Merge::concat);
    };
    f["SqueezeExcitation"] = [](const json& c) {
        return std::make_shared<SqueezeExcitation>(SqueezeExcitationOptions{
            require<std::int64_t>(c, "channels"), require<std::int64_t>(c, "hidden")});
    };
    // Every tagging-model preset (nn/models); its config carries the preset name and full options.
    f["TaggingModel"] = [](const json& c) { return std::shared_ptr<Module>(models::build_from_config(c)); };
    return f;
}

std::mutex g_registry_mutex;
std::map<std::string, ModuleFactory>& factories() {
    static std::map<std::string, ModuleFactory> f = builtin();
    return f;
}

}  // namespace

void register_module_type(const std::string& type, ModuleFactory factory) {
    std::lock_guard lock(g_registry_mutex);
    factories()[type] = std::move(factory);
}

std::shared_ptr<Module> build_module(const nlohmann::json& config) {
    if (!config.is_object() || !config.contains("type") || !config["type"].is_string())
        throw Error("model architecture", "each module must be an object with a string \"type\", got " +
                                              config.dump().substr(0, 200));
    const std::string type = config["type"].get<std::string>();
    ModuleFactory factory;
    {
        std::lock_guard lock(g_registry_mutex);
        auto it = factories().find(type);
        if (it == factories().end()) throw Error("model architecture", "unknown module type '" + type + "'");
        factory = it->second;
    }
    return factory(config);
}

}  // namespace mtag::nn
