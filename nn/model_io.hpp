#pragma once
// Saving and loading a model: DIR/model.safetensors (every parameter and buffer by its dotted name;
// BatchNorm's num_batches_tracked as I64, everything else F32) and DIR/model.json, the model card:
//   {"format": "mtag-model", "format_version": 1, "architecture": <Module::config()>, "metadata": {...}}
// where metadata is free-form JSON the data and app layers fill (features, tags, normalisation...).
// Loading checks every name, dtype and shape against the module and says got/expected; a loaded model
// gives bit-identical outputs to the saved one (values are stored exactly).
#include "nn/module.hpp"

#include <filesystem>
#include <memory>

namespace mtag::nn {

// Writes model.safetensors and model.json into `dir` (created if needed).
void save_model(Module& model, const std::filesystem::path& dir,
                const nlohmann::json& metadata = nlohmann::json::object());

// Writes only the weights file (parameters and buffers).
void save_weights(Module& model, const std::filesystem::path& file);

// Loads weights into an existing module. Every tensor the module has must be in the file with the
// same shape; a file tensor the module lacks is an error unless allow_unexpected (fine-tuning).
void load_weights(Module& model, const std::filesystem::path& file, bool allow_unexpected = false);

struct LoadedModel {
    std::shared_ptr<Module> model;
    nlohmann::json card;  // the whole model.json
};

// Rebuilds the architecture from DIR/model.json and loads DIR/model.safetensors into it (eval mode).
LoadedModel load_model(const std::filesystem::path& dir);

}  // namespace mtag::nn
