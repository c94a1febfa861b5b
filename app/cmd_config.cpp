// mtag config show PRESET: prints a complete training config for a preset, every default filled in (the
// recipe's later phases included). mtag config reference: every key of the config with its default.
#include "app/command.hpp"
#include "data/train/config/reference.hpp"
#include "data/train/train_config.hpp"

#include <iostream>

namespace mtag::app {

Command add_config_command(CLI::App& root, const GlobalOptions& /*global*/) {
    auto preset = std::make_shared<std::string>();
    auto markdown = std::make_shared<bool>(false);
    CLI::App* cmd = root.add_subcommand("config", "Training configurations");
    cmd->require_subcommand(1);
    CLI::App* show = cmd->add_subcommand("show", "Print a complete train.json for a model preset (edit it and pass "
                                                 "it to 'mtag train --config'); 'phases' are the recipe's later stages");
    show->add_option("preset", *preset, "Model preset (cnn1d, fcn4, fcn5, short_chunk_cnn, short_chunk_resnet, "
                                        "sample_cnn, sample_cnn_se, ...)")
        ->required();
    CLI::App* reference = cmd->add_subcommand("reference", "Every key of a training config with its default and meaning");
    reference->add_flag("--markdown", *markdown, "Markdown tables (the README's 'Config reference' section)");
    return {cmd, [preset, markdown, show, reference]() {
        if (show->parsed()) {
            std::cout << data::TrainConfig::example(*preset).to_json().dump(2) << std::endl;
        } else if (reference->parsed()) {
            std::cout << data::config_reference_markdown();
        }
        return 0;
    }};
}

}  // namespace mtag::app
