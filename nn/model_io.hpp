#pragma once
// Saving and loading a model: DIR/model.safetensors (every parameter and buffer by its dotted name;
// BatchNorm's num_batches_tracked as I64, everything else F32) and DIR/model.json, the model card:
//   {"format": "mtag-model", "format_version": 1, "architecture": <Module::config()>, "metadata": {...}}
// where metadata is free-form JSON the data and app layers fill (features, tags, normalisation...).
// Loading checks every name, dtype and shape against the module and says got/expected, and refuses NaN or
// infinite values naming the tensor (a diverged run or a damaged file would otherwise tag with NaN scores);
// a loaded model gives bit-identical outputs to the saved one (values are stored exactly).
#include "nn/module.hpp"

#include <cstdint>
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
    bool allow_non_finite = false;  // NaN/Inf values are loaded as they are instead of being an error
};

// How many values of `t` are NaN or infinite, and the flat index of the first (0 when there is none).
struct NonFinite {
    std::size_t count = 0, first = 0;
};
NonFinite count_non_finite(const Tensor& t);

// What a partial load did, name by name.
struct LoadReport {
    std::vector<std::string> loaded, missing, unexpected,
        mismatched;  // mismatched: "name: got [..], expected [..]"
};

// Loads weights with explicit tolerance for differences; dtype errors, malformed files and (unless
// allow_non_finite) NaN/Inf values still throw.
LoadReport load_weights(Module& model, const std::filesystem::path& file, const LoadOptions& options);

// Largest model.json accepted (64 MiB; mtag's own cards are kilobytes, a PCA-whitened 512-bin card a few
// MB): a model directory from elsewhere cannot make mtag read an unbounded file into memory.
constexpr std::uintmax_t model_card_max_bytes = std::uintmax_t{64} << 20;

// Parses the model.json `file` (a regular file of at most model_card_max_bytes); throws naming the file.
nlohmann::json read_model_json(const std::filesystem::path& file);

// Builds the module of a parsed model.json's "architecture" while its tensors may take at most twice
// `weights_bytes` (the size of the weights file that must hold them all) plus 256 MiB: a forged architecture
// fails as an error naming `where` instead of exhausting memory before the weights are compared with it.
std::shared_ptr<Module> build_architecture(const nlohmann::json& card, std::uintmax_t weights_bytes,
                                           const std::string& where);

struct LoadedModel {
    std::shared_ptr<Module> model;
    nlohmann::json card;  // the whole model.json
};

// Rebuilds the architecture from DIR/model.json and loads DIR/model.safetensors into it (eval mode).
LoadedModel load_model(const std::filesystem::path& dir);

}  // namespace mtag::nn
