#include "nn/models/zoo.hpp"

#include "dsp/error.hpp"
#include "nn/models/cnn1d.hpp"
#include "nn/models/compact_cnn.hpp"
#include "nn/models/crnn.hpp"
#include "nn/models/fcn.hpp"
#include "nn/models/sample_cnn.hpp"
#include "nn/models/short_chunk.hpp"

#include <functional>

namespace mtag::nn::models {

namespace {

[[noreturn]] void unknown_preset(const std::string& name) {
    std::string list;
    for (const std::string& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
    throw Error("model preset '" + name + "'", "unknown; presets: " + list);
}

// One preset: its info, its default options as JSON, and how to build it from overrides of them.
struct PresetEntry {
    std::string name;
    std::function<PresetInfo()> info;
    std::function<nlohmann::json()> options;
    std::function<std::shared_ptr<TaggingModel>(const nlohmann::json& overrides, std::int64_t n_tags)> make;
};

// A preset of family F: `defaults` its options, `info` its PresetInfo, `build` the family's factory.
template <class Options, class Build>
PresetEntry entry(std::string name, PresetInfo (*info)(), Options (*defaults)(), Build build) {
    return {std::move(name), info, [defaults] { return defaults().to_json(); },
            [info, defaults, build](const nlohmann::json& overrides, std::int64_t n_tags) {
                return build(info(), Options::from_json(overrides, defaults()), n_tags);
            }};
}

Cnn1dOptions cnn1d_defaults() {
    return {};
}

std::shared_ptr<TaggingModel> build_cnn1d(const PresetInfo&, const Cnn1dOptions& o, std::int64_t n_tags) {
    return make_cnn1d(o, n_tags);
}

// Every preset, in the order `mtag model list` shows them.
const std::vector<PresetEntry>& presets() {
    static const std::vector<PresetEntry> table = {
        entry("cnn1d", cnn1d_info, cnn1d_defaults, build_cnn1d),
        entry("fcn4", fcn4_info, fcn4_options, make_fcn),
        entry("fcn5", fcn5_info, fcn5_options, make_fcn),
        entry("short_chunk_cnn", short_chunk_cnn_info, short_chunk_cnn_options, make_short_chunk),
        entry("short_chunk_resnet", short_chunk_resnet_info, short_chunk_resnet_options, make_short_chunk),
        entry("sample_cnn", sample_cnn_info, sample_cnn_options, make_sample_cnn),
        entry("sample_cnn_se", sample_cnn_se_info, sample_cnn_se_options, make_sample_cnn),
        entry("crnn", crnn_info, crnn_options, make_crnn),
        entry("choi2016_crnn", choi2016_crnn_info, choi2016_crnn_options, make_crnn),
        entry("choi2016_cnn", choi2016_cnn_info, choi2016_cnn_options, make_fcn),
        entry("choi2017_compact", choi2017_compact_info, choi2017_compact_options, make_compact_cnn),
    };
    return table;
}

const PresetEntry& find_preset(const std::string& name) {
    for (const PresetEntry& e : presets())
        if (e.name == name) return e;
    unknown_preset(name);
}

}  // namespace

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const PresetEntry& e : presets()) names.push_back(e.name);
    return names;
}

PresetInfo preset_info(const std::string& name) {
    return find_preset(name).info();
}

nlohmann::json preset_options(const std::string& name) {
    return find_preset(name).options();
}

std::shared_ptr<TaggingModel> build_model(const nlohmann::json& spec, std::int64_t n_tags) {
    std::string name;
    std::uint64_t seed = 0;
    nlohmann::json overrides = nlohmann::json::object();
    if (spec.is_string()) {
        name = spec.get<std::string>();
    } else if (spec.is_object() && spec.contains("preset") && spec["preset"].is_string()) {
        name = spec["preset"].get<std::string>();
        for (const auto& [key, value] : spec.items()) {
            if (key == "preset") continue;
            if (key == "seed") {
                if (!value.is_number_integer() || value.get<std::int64_t>() < 0)
                    throw Error("model spec", "seed must be a non-negative integer, got " + value.dump());
                seed = value.get<std::uint64_t>();
                continue;
            }
            overrides[key] = value;
        }
    } else {
        throw Error("model spec",
                    "expected a preset name or {\"preset\": NAME, <overrides>...}, got " + spec.dump());
    }
    auto model = find_preset(name).make(overrides, n_tags);
    model->initialize(seed);
    model->train();
    return model;
}

std::shared_ptr<TaggingModel> build_from_config(const nlohmann::json& config) {
    const std::string where = "model architecture TaggingModel";
    for (const char* key : {"preset", "n_tags", "options"})
        if (!config.contains(key)) throw Error(where, std::string("missing key '") + key + "'");
    if (!config["preset"].is_string() || !config["n_tags"].is_number_integer() ||
        !config["options"].is_object())
        throw Error(where, "expected \"preset\" a string, \"n_tags\" an integer and \"options\" an object");
    // The options are complete, so they override every default; validation runs again.
    return find_preset(config["preset"].get<std::string>()).make(config["options"], config["n_tags"].get<std::int64_t>());
}

}  // namespace mtag::nn::models
