#include "data/pretrained/torch_import.hpp"

#include "dsp/error.hpp"
#include "nn/model_io.hpp"
#include "nn/models/zoo.hpp"
#include "nn/safetensors.hpp"

#include <fstream>
#include <map>
#include <set>

namespace mtag::data {

namespace fs = std::filesystem;

std::vector<std::string> read_tag_file(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw Error("--tags " + path.string(), "cannot be read");
    std::vector<std::string> tags;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) tags.push_back(line);
    }
    return tags;
}

RunModel import_safetensors(const fs::path& weights, const std::string& preset, const nlohmann::json& overrides,
                            std::vector<std::string> tags, const std::string& mtag_version) {
    const std::string where = "weights file '" + weights.string() + "'";
    const nn::SafetensorsFile file = nn::read_safetensors(weights);
    nlohmann::json spec = overrides.is_object() ? overrides : nlohmann::json::object();
    spec["preset"] = preset;
    // The output layer's rows give the tag count.
    const std::string output = nn::models::build_model(spec, 1)->output_name() + ".weight";
    const auto out_it = file.tensors.find(output);
    if (out_it == file.tensors.end())
        throw Error(where, "has no output layer '" + output + "' for preset " + preset + "; is it another architecture?");
    const std::int64_t n_tags = out_it->second.value.shape()[0];
    if (tags.empty() && file.metadata.count("tags")) {
        try {
            tags = nlohmann::json::parse(file.metadata.at("tags")).get<std::vector<std::string>>();
        } catch (const nlohmann::json::exception& e) {
            throw Error(where, std::string("__metadata__ \"tags\" is not a JSON list of strings: ") + e.what());
        }
    }
    if (tags.empty()) throw UsageError(where + ": no tag names (give --tags FILE, one tag per line)");
    if (static_cast<std::int64_t>(tags.size()) != n_tags)
        throw Error(where, "has " + std::to_string(n_tags) + " outputs but " + std::to_string(tags.size()) + " tag names were given");

    RunModel run;
    run.model = nn::models::build_model(spec, n_tags);
    std::set<std::string> used;
    auto fill = [&](const std::string& name, nn::Tensor& target, bool optional) {
        const auto it = file.tensors.find(name);
        if (it == file.tensors.end()) {
            if (optional) return;
            throw Error(where, "has no tensor '" + name + "' (expected shape " + target.shape().str() + " for " + preset + ")");
        }
        if (!(it->second.value.shape() == target.shape()))
            throw Error(where, "tensor '" + name + "' has shape " + it->second.value.shape().str() + ", expected " +
                                   target.shape().str() + " for " + preset);
        if (const nn::NonFinite bad = nn::count_non_finite(it->second.value); bad.count > 0)
            throw Error(where, "tensor '" + name + "' has " + std::to_string(bad.count) +
                                   " NaN or infinite values (first at flat index " + std::to_string(bad.first) + ")");
        target.copy_from(it->second.value);
        used.insert(name);
    };
    for (nn::Parameter* p : run.model->parameters()) fill(p->name, p->value, false);
    for (nn::Buffer* b : run.model->buffers()) fill(b->name, b->value, b->integer);  // num_batches_tracked may be absent
    for (const auto& [name, tensor] : file.tensors)
        if (!used.count(name)) throw Error(where, "holds tensor '" + name + "', which " + preset + " does not have");

    const nn::models::TaggingModel& model = *run.model;
    ModelCard& card = run.card;
    card.mtag_version = mtag_version;
    card.preset = preset;
    card.model_options = spec;
    const nlohmann::json front_end = model.front_end();
    card.features = FrontEndConfig::from_json(front_end, "front end of " + preset);
    const nn::Shape input = model.input_shape(1);
    card.input_length = static_cast<std::size_t>(input[input.rank() - 1]);
    card.tags = std::move(tags);
    card.normalization.kind = NormalizationKind::none;
    card.evaluation = {.length = card.input_length, .train_crops = 1, .eval = EvalChunking::evenly_spaced, .eval_chunks = 16};
    card.provenance = {{"file", weights.filename().string()}, {"format", "safetensors from a torch state_dict"}};
    for (const auto& [k, v] : file.metadata)
        if (k != "tags") card.provenance[k] = v;
    card.training = {{"imported", true}};
    run.model->eval();
    return run;
}

}  // namespace mtag::data
