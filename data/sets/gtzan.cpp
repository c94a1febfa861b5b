#include "data/sets/gtzan.hpp"

#include "data/sets/split.hpp"
#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <regex>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// True when `folder` holds at least one "<folder>.NNNNN.ext" file.
bool is_genre_folder(const fs::path& folder) {
    const std::string genre = folder.filename().string();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with(genre + ".") && name.size() > genre.size() + 6) return true;
    }
    return false;
}

std::vector<fs::path> genre_folders(const fs::path& root) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec))
        if (entry.is_directory() && is_genre_folder(entry.path())) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

fs::path find_gtzan_genres(const fs::path& path) {
    if (!fs::is_directory(path)) return {};
    for (const char* name : {"genres", "genres_original", "Data/genres_original"}) {
        if (fs::is_directory(path / name) && !genre_folders(path / name).empty()) return path / name;
    }
    if (!genre_folders(path).empty()) return path;
    return {};
}

Dataset load_gtzan(const fs::path& path, const DatasetOptions& options) {
    const fs::path root = find_gtzan_genres(path);
    if (root.empty())
        throw Error("GTZAN folder '" + path.string() + "'",
                    "no genres/<genre>/<genre>.000NN.{wav,au} (or genres_original/...) layout found");
    Dataset dataset;
    dataset.format = "gtzan";
    dataset.source = root;
    const std::vector<fs::path> genres = genre_folders(root);
    for (const fs::path& folder : genres) dataset.vocabulary.push_back(folder.filename().string());
    const std::regex clip_name(R"(^(.+)\.(\d+)\.([A-Za-z0-9]+)$)");
    for (std::size_t g = 0; g < genres.size(); ++g) {
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(genres[g])) files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            const std::string name = file.filename().string();
            std::smatch m;
            if (!fs::is_regular_file(file) || !std::regex_match(name, m, clip_name) ||
                m[1] != dataset.vocabulary[g]) {
                dataset.skip(file.string(),
                             "not a GTZAN clip (expected " + dataset.vocabulary[g] + ".000NN.wav/.au)");
                continue;
            }
            if (!dsp::is_audio_extension(file)) {
                dataset.skip(file.string(), "not an audio file extension libsndfile reads");
                continue;
            }
            Clip clip;
            clip.id = file.stem().string();
            clip.relative_path = dataset.vocabulary[g] + "/" + name;
            clip.audio_path = file;
            clip.tags.assign(genres.size(), 0);
            clip.tags[g] = 1;
            dataset.clips.push_back(std::move(clip));
        }
    }
    // Duplicates: the same clip as .au and .wav.
    std::sort(dataset.clips.begin(), dataset.clips.end(),
              [](const Clip& a, const Clip& b) { return a.relative_path < b.relative_path; });
    for (std::size_t i = 1; i < dataset.clips.size();) {
        if (dataset.clips[i].id == dataset.clips[i - 1].id) {
            dataset.skip(
                dataset.clips[i].audio_path.string(),
                "duplicate path: clip " + dataset.clips[i].id + " exists in two formats (the first is kept)");
            dataset.clips.erase(dataset.clips.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
    if (options.check_audio) fill_durations(dataset, options.threads, options.duration_cache);
    dataset.require_usable();
    assign_splits(dataset, options, false);
    dataset.require_usable();
    return dataset;
}

}  // namespace mtag::data
