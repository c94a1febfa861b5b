#include "data/sets/load.hpp"

#include "data/sets/gtzan.hpp"
#include "data/sets/jamendo.hpp"
#include "data/sets/manifest.hpp"
#include "data/sets/mtat.hpp"
#include "dsp/error.hpp"

namespace mtag::data {

namespace fs = std::filesystem;

std::string to_string(DatasetFormat format) {
    switch (format) {
        case DatasetFormat::mtat:
            return "mtat";
        case DatasetFormat::gtzan:
            return "gtzan";
        case DatasetFormat::jamendo:
            return "jamendo";
        case DatasetFormat::csv:
            return "csv";
    }
    return "?";
}

DatasetFormat parse_dataset_format(const std::string& name) {
    if (name == "mtat" || name == "magnatagatune") return DatasetFormat::mtat;
    if (name == "gtzan") return DatasetFormat::gtzan;
    if (name == "jamendo" || name == "mtg-jamendo") return DatasetFormat::jamendo;
    if (name == "csv" || name == "manifest") return DatasetFormat::csv;
    throw UsageError("--format '" + name + "'", "expected mtat, gtzan, jamendo or csv");
}

DatasetFormat detect_format(const fs::path& path) {
    if (!fs::exists(path)) throw Error("dataset '" + path.string() + "'", "does not exist");
    if (fs::is_regular_file(path)) {
        const std::string name = path.filename().string();
        if (name.starts_with("annotations_final")) return DatasetFormat::mtat;
        if (name.starts_with("autotagging")) return DatasetFormat::jamendo;
        if (path.extension() == ".csv") return DatasetFormat::csv;
    } else {
        if (fs::is_regular_file(path / "annotations_final.csv")) return DatasetFormat::mtat;
        if (fs::is_regular_file(path / "manifest.csv")) return DatasetFormat::csv;
        if (looks_like_jamendo(path)) return DatasetFormat::jamendo;
        if (!find_gtzan_genres(path).empty()) return DatasetFormat::gtzan;
    }
    throw Error("dataset '" + path.string() + "'",
                "format not recognised (looked for annotations_final.csv, autotagging*.tsv or data/splits/, "
                "genres/<genre>/<genre>.000NN.wav, manifest.csv or a .csv file); pass --format");
}

Dataset load_dataset(const fs::path& path, DatasetFormat format, const DatasetOptions& options) {
    switch (format) {
        case DatasetFormat::mtat:
            return load_mtat(path, options);
        case DatasetFormat::gtzan:
            return load_gtzan(path, options);
        case DatasetFormat::jamendo:
            return load_jamendo(path, options);
        case DatasetFormat::csv:
            return load_manifest(fs::is_directory(path) ? path / "manifest.csv" : path, options);
    }
    throw Error("dataset format", "unknown");
}

Dataset load_dataset(const fs::path& path, const DatasetOptions& options) {
    return load_dataset(path, detect_format(path), options);
}

}  // namespace mtag::data
