#pragma once
// The model zoo: every named preset, built from a JSON spec (preset name plus overrides of any of its
// family's options) and rebuilt from model.json ("TaggingModel" is registered with nn/registry, so
// nn::load_model(dir) works for every preset).
//
//   build_model("short_chunk_cnn", 50)
//   build_model({"preset": "fcn5", "dropout": 0.3, "seed": 7}, 50)
//
// Presets: cnn1d (nn/models/cnn1d.hpp), fcn4 and fcn5 (fcn.hpp), short_chunk_cnn and short_chunk_resnet
// (short_chunk.hpp), sample_cnn and sample_cnn_se (sample_cnn.hpp). Each header states the preset's
// front end, chunk length, optimizer recipe and source.
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mtag::nn::models {

// Preset names in a stable order.
std::vector<std::string> preset_names();
// The preset's info (front end, recipe, citation); throws listing the presets for an unknown name.
PresetInfo preset_info(const std::string& name);
// The preset's default options as JSON (every key the spec may override).
nlohmann::json preset_options(const std::string& name);

// Builds a model from a spec: a preset name (string) or {"preset": NAME, "seed": S (optional, default
// 0), <option>: <value>, ...}. Unknown presets or options, wrong types and invalid values throw
// mtag::Error naming them. The model is initialised from the seed (init scheme: options "init") and
// left in training mode. A fixed front end's buffers (choi2017_compact's DFT kernels and mel matrix) are
// left zero: a new model to train or save comes from data::build_new_model, which computes them.
std::shared_ptr<TaggingModel> build_model(const nlohmann::json& spec, std::int64_t n_tags);

// Rebuilds a model from its config() ({"type": "TaggingModel", "preset", "n_tags", "options"}); the
// parameters are left zero for a weights file to fill. Used by nn::build_module for model.json.
std::shared_ptr<TaggingModel> build_from_config(const nlohmann::json& config);

}  // namespace mtag::nn::models
