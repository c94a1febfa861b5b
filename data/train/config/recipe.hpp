#pragma once
// A preset's training recipe, typed: the front end, optimizer, schedule and later phases its paper or
// reference code trains with (nn/models PresetInfo holds them as the preset's JSON; this is their one
// parser), so that a config that names only the preset trains as published.
//
// Executed, not described: Won et al. 2020's switch from Adam to SGD with two rate drops
// (sota-music-tagging-models training/solver.py) and Lee et al. 2017's / Kim et al. 2018's rate x 0.2 on
// each validation plateau (five rates), with Keras SGD's per-step decay as an inverse-time schedule.
#include "data/run/front_end_config.hpp"
#include "nn/optim/factory.hpp"
#include "nn/schedule/factory.hpp"
#include "nn/train/phase.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtag::data {

struct Recipe {
    FrontEndConfig features;
    nn::OptimizerConfig optimizer;
    nn::ScheduleConfig schedule;
    std::vector<nn::TrainingPhase> phases;
    std::size_t batch_size = 16;
    std::int64_t epochs = 20;
    std::optional<std::int64_t> patience;  // early stopping, when the recipe says
};

// The recipe of `preset` (throws listing the presets for an unknown name).
Recipe preset_recipe(const std::string& preset);

}  // namespace mtag::data
