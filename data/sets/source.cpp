#include "data/sets/source.hpp"

#include "data/sets/load.hpp"
#include "dsp/error.hpp"

#include <filesystem>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// Both spellings, so the message fits the command line and the config alike.
std::string option_name(const char* flag, const char* key) {
    return std::string("--") + flag + " (config data." + key + ")";
}

// An option set away from its default on a dataset it does not concern would be ignored silently: refuse.
void check_applies(const DatasetSource& s, DatasetFormat format) {
    const DatasetSource defaults;
    auto refuse = [&](const char* flag, const char* key, const char* only) {
        throw Error(option_name(flag, key),
                    "applies to " + std::string(only) + " data only, but '" + s.path + "' is " + to_string(format) +
                        " (remove the option, or pass --format if the detection is wrong)");
    };
    if (format != DatasetFormat::mtat) {
        if (s.top_n != defaults.top_n) refuse("top-n", "top_n", "MagnaTagATune");
        if (s.mtat_split != defaults.mtat_split) refuse("mtat-split", "mtat_split", "MagnaTagATune");
    }
    if (format != DatasetFormat::jamendo) {
        if (s.jamendo_split != defaults.jamendo_split) refuse("jamendo-split", "jamendo_split", "MTG-Jamendo");
        if (!s.jamendo_category.empty()) refuse("jamendo-category", "jamendo_category", "MTG-Jamendo");
    }
}

}  // namespace

MtatSplitRule parse_mtat_split(const std::string& name) {
    if (name == "lee") return MtatSplitRule::lee;
    if (name == "folders") return MtatSplitRule::folders;
    throw Error(option_name("mtat-split", "mtat_split") + " '" + name + "'", "expected lee or folders");
}

std::string to_string(MtatSplitRule rule) { return rule == MtatSplitRule::lee ? "lee" : "folders"; }

void DatasetSource::validate() const {
    if (format != "auto") parse_dataset_format(format);  // throws naming --format
    if (top_n < 1)
        throw Error(option_name("top-n", "top_n") + " " + std::to_string(top_n),
                    "the vocabulary needs at least one tag (MTAT's usual sizes: 50, 188)");
    if (jamendo_split < 0)
        throw Error(option_name("jamendo-split", "jamendo_split") + " " + std::to_string(jamendo_split),
                    "expected a split number K >= 0 (data/splits/split-K)");
    if (!(jamendo_category.empty() || jamendo_category == "genre" || jamendo_category == "instrument" ||
          jamendo_category == "mood/theme" || jamendo_category == "top50"))
        throw Error(option_name("jamendo-category", "jamendo_category") + " '" + jamendo_category + "'",
                    "expected genre, instrument, mood/theme or top50 (or nothing for every tag)");
    for (const std::string& f : split_files)
        if (!fs::exists(f))
            throw Error(option_name("split-file", "split_files") + " '" + f + "'",
                        "does not exist (give train*/valid*/test*.txt lists, a key,split table or a folder of them)");
    if (!audio_root.empty() && !fs::is_directory(audio_root))
        throw Error(option_name("audio-root", "audio_root") + " '" + audio_root + "'", "is not a folder");
}

DatasetOptions DatasetSource::options(DatasetOptions base) const {
    base.audio_root = audio_root;
    base.split_files.assign(split_files.begin(), split_files.end());
    base.mtat_split = mtat_split;
    base.mtat_top_n = top_n;
    base.jamendo_split = jamendo_split;
    base.jamendo_category = jamendo_category;
    if (!duration_cache.empty()) base.duration_cache = duration_cache;
    return base;
}

Dataset load_dataset(const DatasetSource& source, const DatasetOptions& base) {
    if (source.path.empty()) throw UsageError("no dataset: give --data PATH (or data.path in the config)");
    source.validate();
    const DatasetFormat format =
        source.format == "auto" ? detect_format(source.path) : parse_dataset_format(source.format);
    check_applies(source, format);
    return load_dataset(source.path, format, source.options(base));
}

}  // namespace mtag::data
