#include "data/sweep/search_space.hpp"

#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

namespace mtag::data {

namespace {

const std::vector<std::pair<Distribution, const char*>>& distribution_names() {
    static const std::vector<std::pair<Distribution, const char*>> names = {{Distribution::log_uniform, "log_uniform"},
                                                                            {Distribution::uniform, "uniform"},
                                                                            {Distribution::int_uniform, "int_uniform"},
                                                                            {Distribution::choice, "choice"}};
    return names;
}

// A double in [0, 1) from the top 53 bits (the same on every platform).
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Dimension parse_dimension(const std::string& path, const nlohmann::json& spec, const std::string& where) {
    const std::string at = where + ": '" + path + "'";
    if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos)
        throw Error(at, "is not a config key path (dotted keys such as \"optimizer.lr\")");
    std::string list;
    for (const auto& [d, n] : distribution_names()) list += (list.empty() ? "" : ", ") + std::string(n);
    const std::string expected = "an object with one key of " + list;
    if (!spec.is_object() || spec.size() != 1)
        throw Error(at, "got " + spec.dump() + ", expected " + expected + " (e.g. {\"log_uniform\": [1e-4, 1e-1]})");
    Dimension d;
    d.path = path;
    const std::string kind = spec.begin().key();
    const nlohmann::json& args = spec.begin().value();
    const auto it = std::find_if(distribution_names().begin(), distribution_names().end(),
                                 [&](const auto& p) { return kind == p.second; });
    if (it == distribution_names().end()) throw Error(at, "unknown distribution '" + kind + "'; expected " + list);
    d.distribution = it->first;
    if (d.distribution == Distribution::choice) {
        if (!args.is_array() || args.empty()) throw Error(at, "choice needs a non-empty list of values, got " + args.dump());
        d.choices = args;
        return d;
    }
    if (!args.is_array() || args.size() != 2 || !args[0].is_number() || !args[1].is_number())
        throw Error(at, kind + " needs [low, high], got " + args.dump());
    d.low = args[0].get<double>();
    d.high = args[1].get<double>();
    if (!std::isfinite(d.low) || !std::isfinite(d.high) || !(d.low < d.high))
        throw Error(at, kind + " range [" + args[0].dump() + ", " + args[1].dump() + "] is empty; expected low < high");
    if (d.distribution == Distribution::log_uniform && !(d.low > 0))
        throw Error(at, "log_uniform needs low > 0 (got " + args[0].dump() + "); for a range that includes 0 use "
                        "uniform, or choice with 0 among the values");
    if (d.distribution == Distribution::int_uniform && (d.low != std::floor(d.low) || d.high != std::floor(d.high)))
        throw Error(at, "int_uniform needs integer bounds, got " + args.dump());
    return d;
}

}  // namespace

nlohmann::json Dimension::value_at(double u) const {
    switch (distribution) {
        case Distribution::log_uniform:
            return std::exp(std::log(low) + u * (std::log(high) - std::log(low)));
        case Distribution::uniform:
            return low + u * (high - low);
        case Distribution::int_uniform: {
            const double span = high - low + 1;
            return static_cast<std::int64_t>(low) + std::min(static_cast<std::int64_t>(u * span),
                                                             static_cast<std::int64_t>(span) - 1);
        }
        case Distribution::choice:
            return choices[std::min(static_cast<std::size_t>(u * static_cast<double>(choices.size())), choices.size() - 1)];
    }
    return nullptr;
}

SearchSpace SearchSpace::from_json(const nlohmann::json& json, const std::string& where) {
    if (!json.is_object() || json.empty())
        throw Error(where, "expected a non-empty JSON object of config key paths, e.g. {\"optimizer.lr\": "
                           "{\"log_uniform\": [1e-4, 1e-1]}}");
    SearchSpace space;
    for (const auto& [path, spec] : json.items()) space.dimensions.push_back(parse_dimension(path, spec, where));
    // A key inside another searched key would be overwritten by it or overwrite it: refuse the ambiguity.
    for (const Dimension& a : space.dimensions)
        for (const Dimension& b : space.dimensions)
            if (b.path.size() > a.path.size() && b.path.compare(0, a.path.size() + 1, a.path + ".") == 0 &&
                a.distribution != Distribution::choice)
                throw Error(where + ": '" + b.path + "'", "lies inside '" + a.path + "', which is a number");
    return space;
}

SearchSpace SearchSpace::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw Error("search space " + file.string(), "cannot open");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw Error("search space " + file.string(), std::string("invalid JSON: ") + e.what());
    }
    return from_json(j, "search space " + file.string());
}

nlohmann::json SearchSpace::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const Dimension& d : dimensions) {
        const char* name = "";
        for (const auto& [e, n] : distribution_names())
            if (e == d.distribution) name = n;
        j[d.path] = {{name, d.distribution == Distribution::choice ? d.choices : nlohmann::json::array({d.low, d.high})}};
    }
    return j;
}

TrialParams SearchSpace::sample(std::uint64_t seed, std::size_t index) const {
    std::mt19937_64 rng(derive_seed(seed, index));
    TrialParams params;
    for (const Dimension& d : dimensions) params.emplace_back(d.path, d.value_at(unit(rng)));
    return params;
}

nlohmann::json apply_params(nlohmann::json config, const TrialParams& params) {
    // Shorter paths first: a replaced section, then the keys set inside it.
    std::vector<const std::pair<std::string, nlohmann::json>*> order;
    for (const auto& p : params) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
        return std::count(a->first.begin(), a->first.end(), '.') < std::count(b->first.begin(), b->first.end(), '.');
    });
    for (const auto* p : order) {
        nlohmann::json* node = &config;
        std::string walked;
        std::stringstream parts(p->first);
        std::string key;
        std::vector<std::string> keys;
        while (std::getline(parts, key, '.')) keys.push_back(key);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (!node->is_object() || !node->contains(keys[i])) {
                std::string known;
                if (node->is_object())
                    for (const auto& [k, v] : node->items()) known += (known.empty() ? "" : ", ") + k;
                throw Error("search space: '" + p->first + "'",
                            "the config has no key '" + keys[i] + "'" + (walked.empty() ? "" : " in '" + walked + "'") +
                                (known.empty() ? "" : "; expected one of " + known) +
                                " (every key: mtag config show PRESET)");
            }
            walked += (walked.empty() ? "" : ".") + keys[i];
            node = &(*node)[keys[i]];
        }
        *node = p->second;
    }
    return config;
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) {
    // ref: Steele, Lea & Flood 2014 (SplitMix64), applied twice so that seed and index both mix fully.
    auto mix = [](std::uint64_t z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    return mix(mix(seed) ^ index);
}

std::string describe_params(const TrialParams& params) {
    std::string out;
    for (const auto& [path, value] : params) {
        const std::size_t dot = path.rfind('.');
        std::string text;
        if (value.is_number_float()) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.3g", value.get<double>());
            text = buffer;
        } else {
            text = value.is_string() ? value.get<std::string>() : value.dump();
        }
        out += (out.empty() ? "" : " ") + (dot == std::string::npos ? path : path.substr(dot + 1)) + "=" + text;
    }
    return out;
}

}  // namespace mtag::data
