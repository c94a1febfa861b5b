#pragma once
// SearchSpace: the hyperparameters `mtag sweep` samples, parsed once from space.json into typed dimensions.
//
//   {"optimizer.lr":           {"log_uniform": [1e-4, 1e-1]},   // exp(U(log low, log high))
//    "optimizer.weight_decay": {"log_uniform": [1e-6, 1e-2]},
//    "model.dropout":          {"uniform": [0.0, 0.5]},          // U(low, high)
//    "batch_size":             {"int_uniform": [8, 32]},         // an integer in [low, high], both included
//    "optimizer":              {"choice": [{"name": "sgd", "lr": 0.01, "momentum": 0.9}, {"name": "adam"}]}}
//
// A key is a dotted path into the training config (the keys of `mtag config show PRESET`); its value replaces
// the config's there. A path naming a whole section replaces the section (so a choice between optimizers
// starts from each optimizer's defaults, as the config file does). Names follow Ray Tune and Optuna
// (tune.loguniform / uniform / randint / choice; suggest_float(log=True) / suggest_int / suggest_categorical),
// except that int_uniform includes its upper end, as suggest_int does.
//
// Sampling is our own arithmetic on std::mt19937_64 (not std::*_distribution, whose algorithms differ between
// standard libraries), so a (seed, trial) pair gives the same values everywhere. Each trial draws from its own
// generator, seeded from the sweep seed and the trial index: trial 7 is the same whether or not trials 0..6 ran.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace mtag::data {

enum class Distribution { log_uniform, uniform, int_uniform, choice };

// One searched key.
struct Dimension {
    std::string path;                                  // "optimizer.lr"
    Distribution distribution = Distribution::uniform;
    double low = 0, high = 0;                          // the range (not for choice)
    nlohmann::json choices = nlohmann::json::array();  // the values of a choice

    // One value for a uniform number u in [0, 1).
    nlohmann::json value_at(double u) const;
};

// The parameters of one trial, in the space's order (path -> value).
using TrialParams = std::vector<std::pair<std::string, nlohmann::json>>;

struct SearchSpace {
    std::vector<Dimension> dimensions;  // in path order (the JSON object's), so sampling is deterministic

    // Parses space.json's object; a bad distribution, range or choice list throws naming the key.
    static SearchSpace from_json(const nlohmann::json& json, const std::string& where = "search space");
    static SearchSpace load(const std::filesystem::path& file);
    nlohmann::json to_json() const;

    // The parameters of trial `index` of a sweep seeded with `seed`.
    TrialParams sample(std::uint64_t seed, std::size_t index) const;
};

// `config` (a complete training config as JSON) with the params set at their paths; sections are replaced
// before the keys inside them. Throws naming the path when it does not exist in `config` (an unknown key).
nlohmann::json apply_params(nlohmann::json config, const TrialParams& params);

// A generator seed for (seed, index): SplitMix64 of both, so neighbouring indices give unrelated streams.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index);

// "lr=0.00123 weight_decay=1.2e-05": the params in short form for tables and progress lines.
std::string describe_params(const TrialParams& params);

}  // namespace mtag::data
