#include "data/train/config/sections.hpp"

#include "nn/models/zoo.hpp"

namespace mtag::data {

ModelConfig ModelConfig::named(const std::string& preset) {
    ModelConfig m;
    m.preset = preset;
    m.options = nn::models::preset_options(preset);  // throws listing the presets
    m.options.erase("preset");
    return m;
}

std::optional<int> ModelConfig::n_mels() const {
    const auto it = options.find("n_mels");
    if (it == options.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int>();
}

nlohmann::json ModelConfig::spec(std::uint64_t run_seed) const {
    nlohmann::json s = options;
    s["preset"] = preset;
    s["seed"] = seed.value_or(run_seed);
    return s;
}

}  // namespace mtag::data
