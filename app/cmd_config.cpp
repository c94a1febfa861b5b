// mtag config show PRESET: prints a complete training config for a preset, every default filled in.
#include "app/command.hpp"
#include "data/train/train_config.hpp"

#include <iostream>

namespace mtag::app {

Command add_config_command(CLI::App& root, const GlobalOptions& /*global*/) {
    auto preset = std::make_shared<std::string>();
    CLI::App* cmd = root.add_subcommand("config", "Training configurations");
    cmd->require_subcommand(1);
    CLI::App* show = cmd->add_subcommand("show", "Print a complete train.json for a model preset (edit it and pass "
                                                 "it to 'mtag train --config')");
    show->add_option("preset", *preset, "Model preset (cnn1d, fcn4, fcn5, short_chunk_cnn, short_chunk_resnet, "
                                        "sample_cnn, sample_cnn_se)")
        ->required();
    return {cmd, [preset]() {
        std::cout << data::TrainConfig::example(*preset).to_json().dump(2) << std::endl;
        return 0;
    }};
}

}  // namespace mtag::app
