#pragma once
// The model of a training run: built from the config's spec, optionally initialised from another run
// (fine-tuning, `--init-from`) with its first blocks frozen (`--freeze`), and its trainable parameters
// split into the groups the optimizer treats differently (pretrained ones may take a smaller rate).
#include "data/train/train_config.hpp"
#include "nn/models/tagging_model.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mtag::data {

struct TrainingModel {
    std::shared_ptr<nn::models::TaggingModel> model;
    nlohmann::json spec;                    // the build spec, seed filled in (stored in the model card)
    std::vector<nn::Parameter*> fresh;      // trainable, randomly initialised
    std::vector<nn::Parameter*> pretrained; // trainable, loaded from --init-from
};

// Copies every parameter and buffer of `from` whose name exists in `to`, except those under `skip_prefix`
// (the output layer when the vocabulary differs). Returns the copied parameters of `to`. Throws mtag::Error
// when a parameter's shape differs (another preset or options).
std::vector<nn::Parameter*> transfer_weights(nn::Module& from, nn::Module& to, const std::string& skip_prefix);

// Builds the model for `n_tags` tags; with `init_from`, loads that run's weights (the output layer only when
// its tags equal `tags`); freezes the first `freeze` blocks. Prints what was loaded unless `quiet`.
TrainingModel setup_model(const TrainConfig& config, const std::vector<std::string>& tags,
                          const std::filesystem::path& init_from, int freeze, bool quiet);

}  // namespace mtag::data
