#pragma once
// `mtag model import --from safetensors --arch PRESET WEIGHTS.safetensors --out DIR`: weights trained in
// PyTorch for an architecture mtag has (Won et al.'s sota-music-tagging-models, or any preset's PyTorch twin),
// converted from a torch state_dict by scripts/import_pytorch.py into safetensors under mtag's parameter
// names. Every tensor of the model must be in the file with its shape, and the file may hold nothing else;
// the tag count comes from the output layer's rows. The tags come from `tags` or, when that is empty, from the
// file's metadata "tags" (a JSON list, which scripts/import_pytorch.py writes from --tags).
#include "data/run/model_card.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mtag::data {

// `overrides`: options of the preset the weights were trained with (e.g. {"n_mels": 128}).
RunModel import_safetensors(const std::filesystem::path& weights, const std::string& preset, const nlohmann::json& overrides,
                            std::vector<std::string> tags, const std::string& mtag_version);

// One tag per non-empty line of a text file.
std::vector<std::string> read_tag_file(const std::filesystem::path& path);

}  // namespace mtag::data
