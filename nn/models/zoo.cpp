#include "nn/models/zoo.hpp"

#include "dsp/error.hpp"
#include "nn/models/cnn1d.hpp"
#include "nn/models/fcn.hpp"
#include "nn/models/sample_cnn.hpp"
#include "nn/models/short_chunk.hpp"

namespace mtag::nn::models {

namespace {

[[noreturn]] void unknown_preset(const std::string& name) {
    std::string list;
    for (const std::string& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
    throw Error("model preset '" + name + "'", "unknown; presets: " + list);
}

// Builds preset `name` with `overrides` applied to its default options.
std::shared_ptr<TaggingModel> make(const std::string& name, const nlohmann::json& overrides, std::int64_t n_tags) {
    if (name == "cnn1d") return make_cnn1d(Cnn1dOptions::from_json(overrides, Cnn1dOptions{}), n_tags);
    if (name == "fcn4") return make_fcn(fcn4_info(), FcnOptions::from_json(overrides, fcn4_options()), n_tags);
    if (name == "fcn5") return make_fcn(fcn5_info(), FcnOptions::from_json(overrides, fcn5_options()), n_tags);
    if (name == "short_chunk_cnn")
        return make_short_chunk(short_chunk_cnn_info(), ShortChunkOptions::from_json(overrides, short_chunk_cnn_options()), n_tags);
    if (name == "short_chunk_resnet")
        return make_short_chunk(short_chunk_resnet_info(), ShortChunkOptions::from_json(overrides, short_chunk_resnet_options()), n_tags);
    if (name == "sample_cnn") return make_sample_cnn(sample_cnn_info(), SampleCnnOptions::from_json(overrides, sample_cnn_options()), n_tags);
    if (name == "sample_cnn_se")
        return make_sample_cnn(sample_cnn_se_info(), SampleCnnOptions::from_json(overrides, sample_cnn_se_options()), n_tags);
    unknown_preset(name);
}

}  // namespace

std::vector<std::string> preset_names() {
    return {"cnn1d", "fcn4", "fcn5", "short_chunk_cnn", "short_chunk_resnet", "sample_cnn", "sample_cnn_se"};
}

PresetInfo preset_info(const std::string& name) {
    if (name == "cnn1d") return cnn1d_info();
    if (name == "fcn4") return fcn4_info();
    if (name == "fcn5") return fcn5_info();
    if (name == "short_chunk_cnn") return short_chunk_cnn_info();
    if (name == "short_chunk_resnet") return short_chunk_resnet_info();
    if (name == "sample_cnn") return sample_cnn_info();
    if (name == "sample_cnn_se") return sample_cnn_se_info();
    unknown_preset(name);
}

nlohmann::json preset_options(const std::string& name) {
    if (name == "cnn1d") return Cnn1dOptions{}.to_json();
    if (name == "fcn4") return fcn4_options().to_json();
    if (name == "fcn5") return fcn5_options().to_json();
    if (name == "short_chunk_cnn") return short_chunk_cnn_options().to_json();
    if (name == "short_chunk_resnet") return short_chunk_resnet_options().to_json();
    if (name == "sample_cnn") return sample_cnn_options().to_json();
    if (name == "sample_cnn_se") return sample_cnn_se_options().to_json();
    unknown_preset(name);
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
                if (!value.is_number_unsigned()) throw Error("model spec", "seed must be a non-negative integer, got " + value.dump());
                seed = value.get<std::uint64_t>();
                continue;
            }
            overrides[key] = value;
        }
    } else {
        throw Error("model spec", "expected a preset name or {\"preset\": NAME, <overrides>...}, got " + spec.dump());
    }
    auto model = make(name, overrides, n_tags);
    model->initialize(seed);
    model->train();
    return model;
}

std::shared_ptr<TaggingModel> build_from_config(const nlohmann::json& config) {
    const std::string where = "model architecture TaggingModel";
    for (const char* key : {"preset", "n_tags", "options"})
        if (!config.contains(key)) throw Error(where, std::string("missing key '") + key + "'");
    if (!config["preset"].is_string() || !config["n_tags"].is_number_integer() || !config["options"].is_object())
        throw Error(where, "expected \"preset\" a string, \"n_tags\" an integer and \"options\" an object");
    // The options are complete, so they override every default; validation runs again.
    return make(config["preset"].get<std::string>(), config["options"], config["n_tags"].get<std::int64_t>());
}

}  // namespace mtag::nn::models
