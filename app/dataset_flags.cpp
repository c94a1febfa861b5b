#include "app/dataset_flags.hpp"

#include "data/sets/load.hpp"
#include "data/train/config/fields.hpp"
#include "data/train/config/sections.hpp"

#include <fstream>
#include <iostream>

namespace mtag::app {

bool DatasetFlags::any_split_option() const {
    return !split_files.empty() || mtat_split || top_n || jamendo_split || jamendo_category;
}

void add_dataset_flags(CLI::App* cmd, DatasetFlags& f, const std::string& format_flag) {
    const data::DatasetSource defaults;
    cmd->add_option(format_flag, f.format, "mtat | gtzan | jamendo | csv | auto (default: detected from --data)")
        ->check(CLI::IsMember({"auto", "mtat", "gtzan", "jamendo", "csv"}));
    cmd->add_option("--audio-root", f.audio_root, "Folder the annotation paths are relative to");
    cmd->add_option("--split-file", f.split_files,
                    "Split files or folders (train*.txt/valid*.txt/test*.txt lists or key,split tables); "
                    "override the dataset's own split");
    cmd->add_option("--mtat-split", f.mtat_split, "MagnaTagATune split rule: lee | folders (default lee)")
        ->check(CLI::IsMember({"lee", "folders"}));
    // Range checks happen in DatasetSource::validate so the config's keys get the same messages.
    cmd->add_option("--top-n", f.top_n, "MagnaTagATune vocabulary size (default " + std::to_string(defaults.top_n) + ")");
    cmd->add_option("--jamendo-split", f.jamendo_split, "MTG-Jamendo data/splits/split-K (default 0)");
    cmd->add_option("--jamendo-category", f.jamendo_category,
                    "MTG-Jamendo tags: genre | instrument | mood/theme | top50 (default: every tag)");
    cmd->add_option("--duration-cache", f.duration_cache, "TSV file caching clip durations across runs");
}

void apply_dataset_flags(const DatasetFlags& f, data::DatasetSource& s) {
    if (!f.data.empty()) s.path = f.data;
    if (f.format) s.format = *f.format;
    if (f.audio_root) s.audio_root = *f.audio_root;
    // Absolute, so that the run's record (config.json) still finds them from another working directory.
    if (!f.split_files.empty()) {
        s.split_files.clear();
        for (const std::string& file : f.split_files)
            s.split_files.push_back(std::filesystem::exists(file) ? std::filesystem::absolute(file).lexically_normal().string() : file);
    }
    if (f.mtat_split) s.mtat_split = data::parse_mtat_split(*f.mtat_split);
    if (f.top_n) s.top_n = *f.top_n;
    if (f.jamendo_split) s.jamendo_split = *f.jamendo_split;
    if (f.jamendo_category) s.jamendo_category = *f.jamendo_category;
    if (f.duration_cache) s.duration_cache = *f.duration_cache;
}

}  // namespace mtag::app

namespace mtag::app {

namespace fs = std::filesystem;

data::DatasetSource dataset_for_run(const DatasetFlags& flags, const fs::path& run_dir, const std::string& command,
                                    bool quiet) {
    data::DatasetSource source;
    source.path = flags.data;
    if (flags.format) source.format = *flags.format;
    const std::string format =
        data::to_string(source.format == "auto" ? data::detect_format(source.path) : data::parse_dataset_format(source.format));
    std::optional<data::DataConfig> recorded;
    const fs::path config_file = run_dir / "config.json";
    if (fs::is_regular_file(config_file)) {
        try {
            std::ifstream in(config_file);
            const nlohmann::json j = nlohmann::json::parse(in);
            if (j.contains("data")) {
                recorded.emplace();
                data::config::JsonReader::read(j["data"], *recorded, config_file.string() + " data");
            }
        } catch (const std::exception& e) {
            recorded.reset();
            if (!quiet) std::cerr << "mtag " << command << ": not using the run's dataset options: " << e.what() << "\n";
        }
    }
    if (recorded && recorded->format == format) {
        std::string used;
        auto note = [&](const std::string& what) { used += (used.empty() ? "" : ", ") + what; };
        if (!flags.mtat_split && recorded->mtat_split != source.mtat_split) {
            source.mtat_split = recorded->mtat_split;
            note("mtat_split " + data::to_string(source.mtat_split));
        }
        if (!flags.top_n && recorded->top_n != source.top_n) {
            source.top_n = recorded->top_n;
            note("top_n " + std::to_string(source.top_n));
        }
        if (!flags.jamendo_split && recorded->jamendo_split != source.jamendo_split) {
            source.jamendo_split = recorded->jamendo_split;
            note("jamendo_split " + std::to_string(source.jamendo_split));
        }
        if (!flags.jamendo_category && !recorded->jamendo_category.empty()) {
            source.jamendo_category = recorded->jamendo_category;
            note("jamendo_category " + source.jamendo_category);
        }
        if (flags.split_files.empty() && !recorded->split_files.empty()) {
            source.split_files = recorded->split_files;
            note("split_files");
        }
        if (!quiet && !used.empty())
            std::cerr << "mtag " << command << ": as the run was trained: " << used
                      << " (from " << config_file.string() << "; a flag overrides)\n";
    }
    apply_dataset_flags(flags, source);
    source.format = format;
    return source;
}

nlohmann::ordered_json dataset_record(const data::DatasetSource& s, const std::string& format) {
    nlohmann::ordered_json j;
    j["format"] = format;
    if (format == "mtat") {
        j["mtat_split"] = data::to_string(s.mtat_split);
        j["top_n"] = s.top_n;
    }
    if (format == "jamendo") {
        j["jamendo_split"] = s.jamendo_split;
        j["jamendo_category"] = s.jamendo_category;
    }
    j["split_files"] = s.split_files;
    return j;
}

}  // namespace mtag::app
