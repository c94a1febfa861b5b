#include "data/sets/jamendo.hpp"

#include "data/sets/csv.hpp"
#include "data/sets/split.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

struct Category {
    std::string file_suffix;  // "_genre" in autotagging_genre.tsv
    std::string tag_prefix;   // "genre---"
};

Category category_of(const std::string& name) {
    if (name.empty() || name == "all") return {"", ""};
    if (name == "genre") return {"_genre", "genre---"};
    if (name == "instrument") return {"_instrument", "instrument---"};
    if (name == "mood/theme" || name == "moodtheme" || name == "mood") return {"_moodtheme", "mood/theme---"};
    if (name == "top50" || name == "top50tags") return {"_top50tags", ""};
    throw Error("--jamendo-category '" + name + "'", "expected genre, instrument, mood/theme or top50");
}

// The files to read, each with the split it stands for (nullopt: a single file to be split here).
struct Source {
    std::vector<std::pair<fs::path, std::optional<Split>>> files;
    bool filter_by_prefix = false;  // the category's own files were not found
};

Source find_sources(const fs::path& path, const DatasetOptions& options, const Category& category) {
    Source source;
    const std::string k = "split-" + std::to_string(options.jamendo_split);
    auto split_files = [&](const fs::path& folder) -> bool {
        for (bool own : {true, false}) {
            if (!own && category.file_suffix.empty()) break;
            const std::string prefix = "autotagging" + (own ? category.file_suffix : std::string());
            const fs::path train = folder / (prefix + "-train.tsv");
            if (!fs::is_regular_file(train)) continue;
            source.files = {{train, Split::train},
                            {folder / (prefix + "-validation.tsv"), Split::valid},
                            {folder / (prefix + "-test.tsv"), Split::test}};
            source.filter_by_prefix = !own;
            return true;
        }
        return false;
    };
    auto single_file = [&](const fs::path& folder) -> bool {
        for (bool own : {true, false}) {
            if (!own && category.file_suffix.empty()) break;
            const fs::path file =
                folder / ("autotagging" + (own ? category.file_suffix : std::string()) + ".tsv");
            if (!fs::is_regular_file(file)) continue;
            source.files = {{file, std::nullopt}};
            source.filter_by_prefix = !own;
            return true;
        }
        return false;
    };
    if (fs::is_regular_file(path)) {
        const std::string stem = path.stem().string();
        const auto dash = stem.rfind('-');
        if (dash != std::string::npos && parse_split(stem.substr(dash + 1))) {
            const std::string prefix = stem.substr(0, dash);
            source.files = {{path.parent_path() / (prefix + "-train.tsv"), Split::train},
                            {path.parent_path() / (prefix + "-validation.tsv"), Split::valid},
                            {path.parent_path() / (prefix + "-test.tsv"), Split::test}};
        } else {
            source.files = {{path, std::nullopt}};
        }
        source.filter_by_prefix = !category.tag_prefix.empty();
        return source;
    }
    for (const fs::path& folder : {path / "data" / "splits" / k, path / "splits" / k, path / k, path})
        if (split_files(folder)) return source;
    for (const fs::path& folder : {path / "data", path})
        if (single_file(folder)) return source;
    throw Error("MTG-Jamendo path '" + path.string() + "'",
                "no data/splits/" + k + "/autotagging*-train.tsv nor autotagging*.tsv found");
}

// One TSV row that was kept: its clip (without audio path and tag vector yet) and its tags.
struct Track {
    Clip clip;
    std::vector<std::string> tags;
};

// The source's rows with a tag of the category (first row per path); bad rows are recorded as skipped.
std::vector<Track> read_tracks(const Source& source, const Category& category, const DatasetOptions& options,
                               Dataset& dataset, std::set<std::string>& vocabulary) {
    std::vector<Track> tracks;
    std::set<std::string> seen;
    std::size_t no_tag = 0;
    for (const auto& [file, split] : source.files) {
        if (!fs::is_regular_file(file)) {
            dataset.skip(file.string(), "missing split file: its clips are absent");
            continue;
        }
        const std::vector<CsvRow> rows = read_csv(file, {.delimiter = '\t', .quoting = false});
        for (const CsvRow& row : rows) {
            if (row.fields.size() >= 1 && row.fields[0] == "TRACK_ID") continue;  // header
            const std::string where = file.filename().string() + ":" + std::to_string(row.line);
            if (row.fields.size() < 6) {
                dataset.skip(where,
                             "unreadable row: " + std::to_string(row.fields.size()) +
                                 " fields, expected TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS...");
                continue;
            }
            Track track;
            track.clip.id = row.fields[0];
            track.clip.relative_path = row.fields[3];
            if (split) track.clip.split = *split;
            try {
                track.clip.duration_seconds = std::stod(row.fields[4]);
            } catch (const std::exception&) {
                dataset.skip(where, "unreadable row: DURATION '" + row.fields[4] + "' is not a number");
                continue;
            }
            for (std::size_t f = 5; f < row.fields.size(); ++f) {
                const std::string& tag = row.fields[f];
                if (tag.empty()) continue;
                if (source.filter_by_prefix && !category.tag_prefix.empty() &&
                    !tag.starts_with(category.tag_prefix))
                    continue;
                track.tags.push_back(tag);
            }
            if (track.tags.empty()) {
                ++no_tag;
                continue;
            }
            if (!seen.insert(track.clip.relative_path).second) {
                dataset.skip(where,
                             "duplicate path '" + track.clip.relative_path + "' (the first row is kept)");
                continue;
            }
            vocabulary.insert(track.tags.begin(), track.tags.end());
            tracks.push_back(std::move(track));
        }
    }
    if (no_tag > 0)
        dataset.filtered["no " + (options.jamendo_category.empty() ? "" : options.jamendo_category + " ") +
                         "tag"] = no_tag;
    return tracks;
}

// PATH with .mp3 replaced by .low.mp3 (the release's low-quality variant).
std::string low_quality_path(std::string p) {
    if (p.ends_with(".mp3")) p.replace(p.size() - 4, 4, ".low.mp3");
    return p;
}

// Where the audio is: a folder, and whether its files are the .low.mp3 variant.
struct AudioLayout {
    fs::path root;
    bool use_low = false;
};

// The audio root and file variant (PATH or PATH with .mp3 -> .low.mp3), judged on the first track.
AudioLayout find_audio_layout(const fs::path& source, const DatasetOptions& options,
                              const std::vector<Track>& tracks) {
    const fs::path data_folder =
        source.filename().string().starts_with("split-") ? source.parent_path().parent_path() : source;
    AudioLayout layout{.root = options.audio_root.empty() ? data_folder : options.audio_root};
    if (tracks.empty()) return layout;
    std::vector<fs::path> roots;
    if (!options.audio_root.empty())
        roots = {options.audio_root};
    else
        roots = {data_folder, data_folder / "audio", data_folder.parent_path() / "audio",
                 data_folder / "raw_30s" / "audio", data_folder.parent_path() / "raw_30s" / "audio"};
    const std::string& first = tracks.front().clip.relative_path;
    std::error_code ec;  // a first path the OS refuses (too long, ...) finds no root, not an exception
    for (const fs::path& r : roots) {
        if (fs::exists(r / first, ec)) {
            layout.root = r;
            break;
        }
        if (fs::exists(r / low_quality_path(first), ec)) {
            layout.root = r;
            layout.use_low = true;
            break;
        }
    }
    return layout;
}

}  // namespace

bool looks_like_jamendo(const fs::path& path) {
    if (fs::is_regular_file(path)) return path.filename().string().starts_with("autotagging");
    try {
        find_sources(path, {}, {});
        return true;
    } catch (const Error&) {
    }
    // Any split-K folder holding autotagging files, not only split-0 (--jamendo-split picks one later).
    std::error_code ec;
    for (const fs::path& splits : {path / "data" / "splits", path / "splits", path}) {
        if (!fs::is_directory(splits, ec)) continue;
        for (const fs::directory_entry& k : fs::directory_iterator(splits, ec)) {
            if (!k.is_directory(ec) || !k.path().filename().string().starts_with("split-")) continue;
            for (const fs::directory_entry& f : fs::directory_iterator(k.path(), ec))
                if (f.path().filename().string().starts_with("autotagging")) return true;
        }
    }
    return false;
}

Dataset load_jamendo(const fs::path& path, const DatasetOptions& options) {
    const Category category = category_of(options.jamendo_category);
    const Source source = find_sources(path, options, category);
    Dataset dataset;
    dataset.format = "jamendo";
    dataset.source = source.files.front().first.parent_path();

    std::set<std::string> vocabulary;
    std::vector<Track> tracks = read_tracks(source, category, options, dataset, vocabulary);
    const AudioLayout audio = find_audio_layout(dataset.source, options, tracks);

    dataset.vocabulary.assign(vocabulary.begin(), vocabulary.end());
    std::map<std::string, std::size_t> index;
    for (std::size_t t = 0; t < dataset.vocabulary.size(); ++t) index[dataset.vocabulary[t]] = t;
    for (Track& track : tracks) {
        Clip& clip = track.clip;
        clip.audio_path =
            audio.root / (audio.use_low ? low_quality_path(clip.relative_path) : clip.relative_path);
        std::error_code ec;  // a path the OS refuses (too long, ...) is missing audio, not an exception
        if (options.check_audio && !fs::is_regular_file(clip.audio_path, ec)) {
            dataset.skip(clip.audio_path.string(), "missing audio");
            continue;
        }
        clip.tags.assign(dataset.vocabulary.size(), 0);
        for (const std::string& tag : track.tags) clip.tags[index[tag]] = 1;
        dataset.clips.push_back(std::move(clip));
    }
    dataset.require_usable();
    assign_splits(dataset, options, source.files.front().second.has_value());
    if (options.check_audio && options.read_durations) {
        // DURATION comes from the TSV; reading headers is only needed when a value is missing.
        fill_durations(dataset, options.threads, options.duration_cache);
    }
    dataset.require_usable();
    return dataset;
}

}  // namespace mtag::data
