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
#include <string>
#include <vector>

namespace mtag::nn {

// Writes model.safetensors and model.json into `dir` (created if needed).
void save_model(Module& model, const std::filesystem::path& dir,
                const nlohmann::json& metadata = nlohmann::json::object());

// Writes only the weights file (parameters and buffers).
void save_weights(Module& model, const std::filesystem::path& file);

// Loads weights into an existing module. Every tensor the module has must be in the file with the
// same shape; a file tensor the module lacks is an error unless allow_unexpected (fine-tuning).
void load_weights(Module& model, const std::filesystem::path& file, bool allow_unexpected = false);

// Options for partial loads (fine-tuning: a new output layer, a different tag vocabulary).
struct LoadOptions {
    bool allow_unexpected = false;  // file tensors the module lacks are ignored
    bool allow_missing = false;     // module tensors absent from the file keep their current values
    bool skip_mismatched = false;   // module tensors whose shape differs keep their current values
};

// What a partial load did, name by name.
struct LoadReport {
    std::vector<std::string> loaded, missing, unexpected,
        mismatched;  // mismatched: "name: got [..], expected [..]"
};

// Loads weights with explicit tolerance for differences; dtype errors and malformed files still throw.
LoadReport load_weights(Module& model, const std::filesystem::path& file, const LoadOptions& options);

struct LoadedModel {
    std::shared_ptr<Module> model;
    nlohmann::json card;  // the whole model.json
};

// Rebuilds the architecture from DIR/model.json and loads DIR/model.safetensors into it (eval mode).
LoadedModel load_model(const std::filesystem::path& dir);

}  // namespace mtag::nn
