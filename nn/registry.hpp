#pragma once
// Rebuilding modules from their config() JSON (the "architecture" of model.json). Every layer of nn/
// is registered; model code may register its own types (e.g. a custom block) under new names.
#include "nn/module.hpp"

#include <functional>
#include <memory>
#include <string>

namespace mtag::nn {

using ModuleFactory = std::function<std::shared_ptr<Module>(const nlohmann::json& config)>;

// Adds (or replaces) the factory for `type`.
void register_module_type(const std::string& type, ModuleFactory factory);
// Builds a module (recursively for containers) from {"type": ..., options...}; throws mtag::Error
// naming the type and the offending key when the config is incomplete or invalid.
std::shared_ptr<Module> build_module(const nlohmann::json& config);

}  // namespace mtag::nn
