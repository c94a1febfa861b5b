#include "data/train/config/reference.hpp"

#include "data/train/config/fields.hpp"
#include "data/train/train_config.hpp"
#include "nn/models/zoo.hpp"

#include <sstream>

namespace mtag::data {

namespace {

std::string cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += "\\|";
        else if (c == '\n') out += ' ';
        else out += c;
    }
    return out;
}

void table(std::ostringstream& md, const std::vector<config::KeyDoc>& rows, const std::string& skip = {}) {
    md << "| key | default | meaning |\n| --- | --- | --- |\n";
    for (const config::KeyDoc& r : rows)
        if (r.key != skip) md << "| `" << r.key << "` | `" << cell(r.value) << "` | " << cell(r.doc) << " |\n";
    md << "\n";
}

}  // namespace

std::string config_reference_markdown() {
    std::ostringstream md;
    md << "Every key of `mtag train --config FILE`, with its default. Sections and keys left out take these defaults, "
          "or the model preset's recipe where noted (`mtag config show PRESET` prints a preset's complete config). "
          "Unknown keys are errors.\n\n";
    md << "#### Top level and small sections\n\n";
    std::vector<config::KeyDoc> top = config::ReferenceWriter::rows(TrainConfig{});
    std::vector<config::KeyDoc> kept;
    for (const auto& r : top)  // optimizer, schedule and model keys are listed per name below
        if (r.key.rfind("optimizer.", 0) != 0 && r.key.rfind("schedule.", 0) != 0 &&
            r.key.rfind("phases[].schedule.", 0) != 0)
            kept.push_back(r.key == "features" ? config::KeyDoc{r.key, "the preset's", r.doc} : r);
    kept.push_back({"phases[].schedule", "{\"name\": \"constant\"}", "the phase's schedule: a schedule section"});
    table(md, kept);

    md << "#### `optimizer`, by `name`\n\n";
    for (const std::string& name : nn::optimizer_names()) {
        md << "`\"name\": \"" << name << "\"`\n\n";
        table(md, config::ReferenceWriter::rows(nn::OptimizerConfig::named(name), "optimizer."), "optimizer.name");
    }
    md << "#### `schedule`, by `name`\n\n";
    for (const std::string& name : nn::schedule_names()) {
        md << "`\"name\": \"" << name << "\"`\n\n";
        table(md, config::ReferenceWriter::rows(nn::ScheduleConfig::named(name), "schedule."), "schedule.name");
    }
    md << "#### `model`, by `preset`\n\n";
    for (const std::string& preset : nn::models::preset_names()) {
        md << "`\"preset\": \"" << preset << "\"`:";
        const ModelConfig m = ModelConfig::named(preset);
        for (auto it = m.options.begin(); it != m.options.end(); ++it)
            md << " `" << it.key() << "` " << cell(it.value().dump()) << ";";
        md << " `seed` null\n\n";
    }
    return md.str();
}

}  // namespace mtag::data
