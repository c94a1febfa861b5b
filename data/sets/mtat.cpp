#include "data/sets/mtat.hpp"

#include "data/sets/csv.hpp"
#include "data/sets/split.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <numeric>
#include <set>

namespace mtag::data {

namespace fs = std::filesystem;

bool is_broken_mtat_clip(const std::string& clip_id) {
    return clip_id == "35644" || clip_id == "55753" || clip_id == "57881";
}

namespace {

fs::path find_annotations(const fs::path& path) {
    if (fs::is_directory(path)) {
        for (const char* name : {"annotations_final.csv", "annotations_final.tsv"}) {
            if (fs::is_regular_file(path / name)) return path / name;
        }
        throw Error("MTAT folder '" + path.string() + "'", "holds no annotations_final.csv");
    }
    return path;
}

fs::path find_audio_root(const fs::path& annotations, const std::string& first_mp3,
                         const DatasetOptions& options) {
    if (!options.audio_root.empty()) return options.audio_root;
    const fs::path folder = annotations.parent_path();
    const fs::path candidates[] = {folder, folder / "mp3", folder / "audio", folder.parent_path() / "mp3"};
    // The probes take a path from the file's first row: one the OS refuses (too long, not permitted) is
    // simply not the root, rather than a std::filesystem exception.
    std::error_code ec;
    for (const fs::path& c : candidates)
        if (!first_mp3.empty() && fs::exists(c / first_mp3, ec)) return c;
    for (const fs::path& c : candidates)
        if (fs::is_directory(c / "0", ec) && fs::is_directory(c / "f", ec)) return c;
    return folder;
}

// 0-b train, c valid, d-f test (case-insensitive); nullopt when the path starts otherwise.
std::optional<Split> folder_split(const std::string& mp3_path) {
    if (mp3_path.size() < 2 || mp3_path[1] != '/') return std::nullopt;
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(mp3_path[0])));
    if ((c >= '0' && c <= '9') || c == 'a' || c == 'b') return Split::train;
    if (c == 'c') return Split::valid;
    if (c == 'd' || c == 'e' || c == 'f') return Split::test;
    return std::nullopt;
}

// The annotation file's header and where its clip_id, mp3_path and tag columns are.
struct Columns {
    const CsvRow& header;
    int id_col = -1, path_col = -1;
    std::vector<int> tag_cols;
};

// Finds the columns in the header row; throws when the file is empty or lacks them.
Columns find_columns(const std::vector<CsvRow>& rows, const fs::path& annotations) {
    if (rows.empty()) throw Error("MTAT annotations '" + annotations.string() + "'", "is empty");
    const CsvRow& header = rows.front();
    const int id_col = column_index(header, "clip_id");
    const int path_col = column_index(header, "mp3_path");
    if (id_col < 0 || path_col < 0)
        throw Error("MTAT annotations '" + annotations.string() + "'",
                    "the tab-separated header needs 'clip_id' and 'mp3_path' columns (got " +
                        std::to_string(header.fields.size()) + " columns; is this annotations_final.csv?)");
    std::vector<int> tag_cols;
    for (int c = 0; c < static_cast<int>(header.fields.size()); ++c)
        if (c != id_col && c != path_col) tag_cols.push_back(c);
    if (tag_cols.empty())
        throw Error("MTAT annotations '" + annotations.string() + "'", "has no tag columns");
    return {header, id_col, path_col, std::move(tag_cols)};
}

// One readable annotation row.
struct Row {
    std::string id, mp3;
    std::vector<std::uint8_t> tags;  // over tag_cols
};

// Parses every row (unreadable ones are recorded as skipped) and counts each tag column over all of them.
std::vector<Row> parse_rows(const std::vector<CsvRow>& rows, const Columns& columns, const std::string& name,
                            Dataset& dataset, std::vector<std::size_t>& sums) {
    const CsvRow& header = columns.header;
    const std::vector<int>& tag_cols = columns.tag_cols;
    std::vector<Row> parsed;
    sums.assign(tag_cols.size(), 0);
    for (std::size_t r = 1; r < rows.size(); ++r) {
        const CsvRow& row = rows[r];
        const std::string where = name + ":" + std::to_string(row.line);
        if (row.fields.size() != header.fields.size()) {
            dataset.skip(where, "unreadable row: " + std::to_string(row.fields.size()) +
                                    " fields, expected " + std::to_string(header.fields.size()));
            continue;
        }
        Row out{row.fields[columns.id_col], row.fields[columns.path_col], {}};
        out.tags.reserve(tag_cols.size());
        bool ok = !out.mp3.empty() && !out.id.empty();
        for (int c : tag_cols) {
            const std::string& v = row.fields[c];
            if (v != "0" && v != "1") ok = false;
            out.tags.push_back(v == "1");
        }
        if (!ok) {
            dataset.skip(where, "unreadable row: empty clip_id/mp3_path or a tag value other than 0/1");
            continue;
        }
        for (std::size_t t = 0; t < sums.size(); ++t) sums[t] += out.tags[t];
        parsed.push_back(std::move(out));
    }
    return parsed;
}

// The top_n tag columns by column sum, ties by column order (stable sort keeps the file's order).
std::vector<std::size_t> top_tags(const std::vector<std::size_t>& sums, std::size_t top_n) {
    std::vector<std::size_t> order(sums.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return sums[a] > sums[b]; });
    order.resize(std::min(order.size(), top_n));
    return order;
}

// Adds a clip per usable row, with the `order` tags; the other rows are recorded as skipped or filtered.
void add_clips(const std::vector<Row>& parsed, const std::vector<std::size_t>& order, const fs::path& root,
               bool lee, const DatasetOptions& options, Dataset& dataset) {
    const std::string top = "top-" + std::to_string(order.size());
    std::set<std::string> seen;
    for (const Row& row : parsed) {
        if (is_broken_mtat_clip(row.id)) {
            dataset.skip(row.id, "known broken clip of the MTAT release (empty MP3), dropped by convention");
            continue;
        }
        if (!seen.insert(row.mp3).second) {
            dataset.skip(row.id, "duplicate path '" + row.mp3 + "'");
            continue;
        }
        Clip clip;
        clip.id = row.id;
        clip.relative_path = row.mp3;
        clip.audio_path = root / row.mp3;
        clip.tags.reserve(order.size());
        for (std::size_t t : order) clip.tags.push_back(row.tags[t]);
        if (options.split_files.empty()) {
            const std::optional<Split> split = folder_split(row.mp3);
            if (!split) {
                dataset.skip(row.id,
                             "unknown split: mp3_path '" + row.mp3 + "' is not under a hex folder 0-f");
                continue;
            }
            clip.split = *split;
        }
        if (lee && std::none_of(clip.tags.begin(), clip.tags.end(), [](std::uint8_t v) { return v; })) {
            ++dataset.filtered["no " + top + " tag (lee split)"];
            continue;
        }
        std::error_code ec;  // a path the OS refuses (too long, ...) is missing audio, not an exception
        if (options.check_audio && !fs::is_regular_file(clip.audio_path, ec)) {
            dataset.skip(clip.audio_path.string(), "missing audio");
            continue;
        }
        dataset.clips.push_back(std::move(clip));
    }
}

}  // namespace

Dataset load_mtat(const fs::path& path, const DatasetOptions& options) {
    const fs::path annotations = find_annotations(path);
    Dataset dataset;
    dataset.format = "mtat";
    dataset.source = annotations;
    const std::vector<CsvRow> rows = read_csv(annotations, {.delimiter = '\t'});
    const std::string name = annotations.filename().string();
    const Columns columns = find_columns(rows, annotations);

    // Parse every row; column sums count all readable rows (the vocabulary is defined over all clips).
    std::vector<std::size_t> sums;
    const std::vector<Row> parsed = parse_rows(rows, columns, name, dataset, sums);
    const std::vector<std::size_t> order = top_tags(sums, options.mtat_top_n);
    for (std::size_t t : order) dataset.vocabulary.push_back(columns.header.fields[columns.tag_cols[t]]);

    const bool lee = options.split_files.empty() && options.mtat_split == MtatSplitRule::lee;
    const fs::path root = find_audio_root(annotations, parsed.empty() ? "" : parsed.front().mp3, options);
    add_clips(parsed, order, root, lee, options, dataset);
    dataset.require_usable();
    assign_splits(dataset, options, true);
    if (lee || options.read_durations) fill_durations(dataset, options.threads, options.duration_cache);
    if (lee) {
        std::erase_if(dataset.clips, [&](const Clip& clip) {
            const bool short_clip = clip.duration_seconds && *clip.duration_seconds <= mtat_lee_min_seconds;
            if (short_clip) ++dataset.filtered["29.1 s or shorter (lee split)"];
            return short_clip;
        });
    }
    dataset.require_usable();
    return dataset;
}

}  // namespace mtag::data
