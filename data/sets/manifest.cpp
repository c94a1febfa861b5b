#include "data/sets/manifest.hpp"

#include "data/sets/csv.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <sstream>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::vector<std::string> split_tags(std::string_view field) {
    std::vector<std::string> tags;
    std::size_t start = 0;
    while (start <= field.size()) {
        const std::size_t end = std::min(field.find(';', start), field.size());
        std::string tag = trim(field.substr(start, end - start));
        if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
        start = end + 1;
    }
    return tags;
}

// fs::weakly_canonical (the key that finds two rows naming one file through different spellings or
// symlinks) costs a realpath of every component per row: 9 of the 15 s of a 1e6-row manifest. The folders
// of a manifest are few, so their canonical form is computed once; only a file that is itself a symlink (or
// a name like "..") still takes the full call. The keys are the same as weakly_canonical's.
class CanonicalPaths {
  public:
    std::string operator()(const fs::path& path) {
        const fs::path name = path.filename();
        std::error_code ec;
        if (name.empty() || name == "." || name == ".." || fs::is_symlink(fs::symlink_status(path, ec)))
            return weakly_canonical_or_normal(path).string();
        const std::string parent = path.parent_path().string();
        auto it = m_folders.find(parent);
        if (it == m_folders.end())
            it = m_folders.emplace(parent, weakly_canonical_or_normal(parent.empty() ? fs::path(".") : fs::path(parent)))
                     .first;
        return (it->second / name).string();
    }

  private:
    // A path the OS refuses to resolve (too long, not permitted) keys by its lexical form: the row is then
    // reported as missing audio, or decoded and reported, instead of escaping as a std::filesystem exception.
    static fs::path weakly_canonical_or_normal(const fs::path& path) {
        std::error_code ec;
        fs::path resolved = fs::weakly_canonical(path, ec);
        return ec ? path.lexically_normal() : resolved;
    }

    std::unordered_map<std::string, fs::path> m_folders;
};

}  // namespace

Dataset load_manifest(const fs::path& manifest, const DatasetOptions& options) {
    Dataset dataset;
    dataset.format = "csv";
    dataset.source = manifest;
    std::vector<CsvRow> rows = read_csv(manifest, {.delimiter = ','});
    if (rows.empty())
        throw Error("manifest '" + manifest.string() + "'", "is empty (expected a header path,tags,split)");
    const CsvRow& header = rows.front();
    const int path_col = column_index(header, "path");
    const int tags_col = column_index(header, "tags");
    const int split_col = column_index(header, "split");
    const int duration_col = column_index(header, "duration");
    if (path_col < 0 || tags_col < 0)
        throw Error(
            "manifest '" + manifest.string() + "'",
            "the header needs columns 'path' and 'tags' (and optionally 'split', 'duration'); got '" +
                [&] {
                    std::string s;
                    for (const auto& f : header.fields) s += (s.empty() ? "" : ",") + f;
                    return s;
                }() +
                "'");
    const fs::path base = manifest.parent_path();
    const std::size_t needed =
        static_cast<std::size_t>(std::max({path_col, tags_col, split_col, duration_col})) + 1;

    std::vector<std::vector<std::string>> clip_tags;
    std::unordered_set<std::string> seen;
    std::set<std::string> vocabulary;
    CanonicalPaths canonical;
    for (std::size_t r = 1; r < rows.size(); ++r) {
        CsvRow& row = rows[r];
        // Each row's text is released once the row is read, so that the parsed rows shrink as the clips grow
        // instead of both being held whole (a 1e6-row manifest).
        struct Release {
            CsvRow& row;
            ~Release() { std::vector<std::string>().swap(row.fields); }
        } release{row};
        const std::string where = manifest.filename().string() + ":" + std::to_string(row.line);
        if (row.fields.size() < needed) {
            dataset.skip(where, "unreadable row: " + std::to_string(row.fields.size()) +
                                    " fields, expected " + std::to_string(header.fields.size()));
            continue;
        }
        const std::string rel = trim(row.fields[path_col]);
        if (rel.empty()) {
            dataset.skip(where, "unreadable row: empty path");
            continue;
        }
        Clip clip;
        clip.id = rel;
        clip.relative_path = rel;
        clip.audio_path = fs::path(rel).is_absolute() ? fs::path(rel) : base / rel;
        if (split_col >= 0) {
            const std::string text = trim(row.fields[split_col]);
            const std::optional<Split> split = parse_split(text);
            if (!split) {
                dataset.skip(where, "unknown split '" + text + "' (expected train, valid or test)");
                continue;
            }
            clip.split = *split;
        }
        if (duration_col >= 0 && !trim(row.fields[duration_col]).empty()) {
            try {
                clip.duration_seconds = std::stod(row.fields[duration_col]);
            } catch (const std::exception&) {
                dataset.skip(where,
                             "unreadable row: duration '" + row.fields[duration_col] + "' is not a number");
                continue;
            }
        }
        const std::string key = canonical(clip.audio_path);
        if (!seen.insert(key).second) {
            dataset.skip(where, "duplicate path '" + rel + "' (the first row with it is kept)");
            continue;
        }
        std::error_code ec;  // a path the OS refuses (too long, ...) is missing audio, not an exception
        if (options.check_audio && !fs::is_regular_file(clip.audio_path, ec)) {
            dataset.skip(clip.audio_path.string(), "missing audio");
            continue;
        }
        std::vector<std::string> tags = split_tags(row.fields[tags_col]);
        vocabulary.insert(tags.begin(), tags.end());
        clip_tags.push_back(std::move(tags));
        dataset.clips.push_back(std::move(clip));
    }
    dataset.vocabulary.assign(vocabulary.begin(), vocabulary.end());
    std::map<std::string, std::size_t> index;
    for (std::size_t t = 0; t < dataset.vocabulary.size(); ++t) index[dataset.vocabulary[t]] = t;
    for (std::size_t i = 0; i < dataset.clips.size(); ++i) {
        dataset.clips[i].tags.assign(dataset.vocabulary.size(), 0);
        for (const std::string& tag : clip_tags[i]) dataset.clips[i].tags[index[tag]] = 1;
    }
    dataset.require_usable();
    assign_splits(dataset, options, split_col >= 0);
    if (options.read_durations) fill_durations(dataset, options.threads, options.duration_cache);
    dataset.require_usable();
    return dataset;
}

void write_manifest(const fs::path& manifest, const std::vector<ManifestRow>& rows) {
    const fs::path base = fs::absolute(manifest).parent_path();
    const bool with_duration = std::any_of(
        rows.begin(), rows.end(), [](const ManifestRow& r) { return r.duration_seconds.has_value(); });
    std::ostringstream out;
    out.precision(10);
    out << "path,tags,split" << (with_duration ? ",duration" : "") << "\n";
    for (const ManifestRow& row : rows) {
        fs::path path = row.path;
        if (path.is_absolute()) {
            const fs::path rel = path.lexically_relative(base);
            if (!rel.empty() && *rel.begin() != "..") path = rel;
        }
        std::string tags;
        for (const std::string& tag : row.tags) {
            if (tag.find(';') != std::string::npos)
                throw Error("manifest tag '" + tag + "'", "contains ';', the tag separator");
            tags += (tags.empty() ? "" : ";") + tag;
        }
        out << csv_escape(path.generic_string()) << "," << csv_escape(tags) << "," << csv_escape(row.split);
        if (with_duration) {
            out << ",";
            if (row.duration_seconds) out << *row.duration_seconds;
        }
        out << "\n";
    }
    const fs::path tmp = manifest.string() + ".tmp";
    {
        std::ofstream file(tmp, std::ios::binary);
        file << out.str();
        if (!file) throw Error("manifest '" + manifest.string() + "'", "cannot be written");
    }
    fs::rename(tmp, manifest);
}

void write_manifest(const fs::path& manifest, const Dataset& dataset) {
    std::vector<ManifestRow> rows;
    for (const Clip& clip : dataset.clips) {
        ManifestRow row{.path = fs::absolute(clip.audio_path),
                        .tags = {},
                        .split = to_string(clip.split),
                        .duration_seconds = clip.duration_seconds};
        for (std::size_t t = 0; t < clip.tags.size(); ++t)
            if (clip.tags[t]) row.tags.push_back(dataset.vocabulary[t]);
        rows.push_back(std::move(row));
    }
    write_manifest(manifest, rows);
}

}  // namespace mtag::data
