#include "data/train/config/reference.hpp"

#include "data/train/config/fields.hpp"
#include "data/train/train_config.hpp"
#include "nn/models/zoo.hpp"

#include <algorithm>
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

void table(std::ostringstream& md, const std::vector<config::KeyDoc>& rows) {
    md << "| key | default | meaning |\n| --- | --- | --- |\n";
    for (const config::KeyDoc& r : rows)
        md << "| `" << r.key << "` | `" << cell(r.value) << "` | " << cell(r.doc) << " |\n";
    md << "\n";
}

// A section whose keys depend on its "name": one table of every key's meaning, then each name's keys with
// their defaults.
template <class Rows>
void by_name(std::ostringstream& md, const std::string& section, const std::vector<std::string>& names, Rows rows_of) {
    md << "#### `" << section << "`\n\n| key | meaning |\n| --- | --- |\n";
    std::vector<std::pair<std::string, std::string>> docs;  // key, its meanings (distinct ones joined)
    for (const std::string& name : names)
        for (const config::KeyDoc& r : rows_of(name)) {
            auto it = std::find_if(docs.begin(), docs.end(), [&](const auto& d) { return d.first == r.key; });
            if (it == docs.end())
                docs.emplace_back(r.key, r.doc);
            else if (it->second.find(r.doc) == std::string::npos)
                it->second += "; " + r.doc;
        }
    for (const auto& [key, doc] : docs) md << "| `" << key << "` | " << cell(doc) << " |\n";
    md << "\nDefaults by `name`:\n\n| name | keys and defaults |\n| --- | --- |\n";
    for (const std::string& name : names) {
        md << "| `" << name << "` |";
        for (const config::KeyDoc& r : rows_of(name))
            if (r.key != section + ".name") md << " `" << r.key.substr(section.size() + 1) << "` " << cell(r.value) << ";";
        md << " |\n";
    }
    md << "\n";
}

}  // namespace

std::string config_reference_markdown() {
    std::ostringstream md;
    md << "Every key of `mtag train --config FILE`, with its default. Sections and keys left out take these defaults, "
          "or the model preset's recipe where noted (`mtag config show PRESET` prints a preset's complete config). "
          "Unknown keys are errors.\n\n";
    md << "#### Top level and small sections\n\n";
    const TrainConfig defaults;  // named: GCC 12 warns (falsely) of an uninitialised string in TrainConfig{}
    std::vector<config::KeyDoc> top = config::ReferenceWriter::rows(defaults);
    std::vector<config::KeyDoc> kept;
    for (const auto& r : top)  // optimizer, schedule and model keys are listed per name below
        if (r.key.rfind("optimizer.", 0) != 0 && r.key.rfind("schedule.", 0) != 0 &&
            r.key.rfind("phases[].schedule.", 0) != 0)
        {
            kept.push_back(r.key == "features" ? config::KeyDoc{r.key, "the preset's", r.doc} : r);
            if (r.key == "phases[].lr")
                kept.push_back({"phases[].schedule", "{\"name\": \"constant\"}", "the phase's schedule (a schedule section)"});
        }
    table(md, kept);

    by_name(md, "optimizer", nn::optimizer_names(), [](const std::string& n) {
        return config::ReferenceWriter::rows(nn::OptimizerConfig::named(n), "optimizer.");
    });
    by_name(md, "schedule", nn::schedule_names(), [](const std::string& n) {
        return config::ReferenceWriter::rows(nn::ScheduleConfig::named(n), "schedule.");
    });
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
