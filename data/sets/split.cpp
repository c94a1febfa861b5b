#include "data/sets/split.hpp"

#include "data/sets/csv.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

namespace mtag::data {

namespace fs = std::filesystem;

void stratified_split(Dataset& dataset, std::uint64_t seed, const SplitFractions& fractions) {
    const double f[3] = {fractions.train, fractions.valid, fractions.test};
    if (f[0] < 0 || f[1] < 0 || f[2] < 0 || std::abs(f[0] + f[1] + f[2] - 1.0) > 1e-6)
        throw Error("split fractions", "train " + std::to_string(f[0]) + ", valid " + std::to_string(f[1]) +
                                           ", test " + std::to_string(f[2]) + " must be >= 0 and sum to 1");
    const std::size_t n = dataset.clips.size();
    const std::size_t n_tags = dataset.vocabulary.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);

    // Desired counts per split, overall and per tag; they shrink as clips are assigned.
    std::vector<std::size_t> positives(n_tags, 0);
    for (const Clip& clip : dataset.clips)
        for (std::size_t t = 0; t < n_tags; ++t) positives[t] += clip.tags[t];
    double desired[3];
    std::vector<double> desired_tag[3];
    for (int s = 0; s < 3; ++s) {
        desired[s] = f[s] * static_cast<double>(n);
        desired_tag[s].resize(n_tags);
        for (std::size_t t = 0; t < n_tags; ++t) desired_tag[s][t] = f[s] * static_cast<double>(positives[t]);
    }
    std::vector<bool> assigned(n, false);
    auto assign = [&](std::size_t clip_index, int s) {
        Clip& clip = dataset.clips[clip_index];
        clip.split = all_splits[s];
        assigned[clip_index] = true;
        desired[s] -= 1.0;
        for (std::size_t t = 0; t < n_tags; ++t) {
            if (!clip.tags[t]) continue;
            desired_tag[s][t] -= 1.0;
            --positives[t];
        }
    };
    // The split that most wants one more clip: by the tag's demand, then overall demand, then a coin.
    auto choose = [&](const std::vector<double>* by_tag, std::size_t tag) {
        int best = -1;
        for (int s = 0; s < 3; ++s) {
            if (f[s] == 0.0) continue;
            if (best < 0) {
                best = s;
                continue;
            }
            const double a = by_tag ? by_tag[s][tag] : desired[s];
            const double b = by_tag ? by_tag[best][tag] : desired[best];
            if (a > b + 1e-9 || (std::abs(a - b) <= 1e-9 && desired[s] > desired[best] + 1e-9) ||
                (std::abs(a - b) <= 1e-9 && std::abs(desired[s] - desired[best]) <= 1e-9 && (rng() & 1)))
                best = s;
        }
        return best;
    };
    while (true) {
        // The rarest tag among the unassigned clips goes first: it is the hardest to balance.
        std::size_t tag = n_tags;
        for (std::size_t t = 0; t < n_tags; ++t)
            if (positives[t] > 0 && (tag == n_tags || positives[t] < positives[tag])) tag = t;
        if (tag == n_tags) break;
        for (std::size_t i : order)
            if (!assigned[i] && dataset.clips[i].tags[tag]) assign(i, choose(desired_tag, tag));
    }
    for (std::size_t i : order)
        if (!assigned[i]) assign(i, choose(nullptr, 0));
}

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The split a list file stands for, from its name, or nullopt for a two-column table.
std::optional<Split> split_from_file_name(const fs::path& path) {
    const std::string name = lower(path.filename().string());
    for (const char* prefix : {"validation", "valid", "val", "train", "test"}) {
        if (name.starts_with(prefix)) return parse_split(prefix);
    }
    return std::nullopt;
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

void read_one_split_file(const fs::path& path, SplitAssignment& out) {
    const std::optional<Split> list_split = split_from_file_name(path);
    std::ifstream probe(path);
    std::string first;
    std::getline(probe, first);
    const char delimiter = first.find('\t') != std::string::npos ? '\t' : ',';
    const std::vector<CsvRow> rows = read_csv(path, {.delimiter = delimiter});
    for (const CsvRow& row : rows) {
        const std::string key = trim(row.fields[0]);
        if (key.empty()) continue;
        const std::string where = path.string() + ":" + std::to_string(row.line);
        if (list_split) {
            out[key] = *list_split;
            continue;
        }
        if (row.fields.size() < 2)
            throw Error(where, "expected 'key" + std::string(delimiter == '\t' ? "<TAB>" : ",") +
                                   "split' (or name the file train*.txt / valid*.txt / test*.txt to list "
                                   "one split's clips)");
        const std::string split_text = trim(row.fields[1]);
        if (row.line == 1 && lower(split_text) == "split") continue;  // header
        const std::optional<Split> split = parse_split(split_text);
        if (!split) throw Error(where, "unknown split '" + split_text + "' (expected train, valid or test)");
        out[key] = *split;
    }
}

}  // namespace

SplitAssignment read_split_files(const std::vector<fs::path>& paths) {
    SplitAssignment out;
    for (const fs::path& path : paths) {
        if (fs::is_directory(path)) {
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(path))
                if (entry.is_regular_file()) files.push_back(entry.path());
            std::sort(files.begin(), files.end());
            if (files.empty()) throw Error("split folder '" + path.string() + "'", "holds no files");
            for (const fs::path& file : files) read_one_split_file(file, out);
        } else {
            if (!fs::exists(path)) throw Error("split file '" + path.string() + "'", "does not exist");
            read_one_split_file(path, out);
        }
    }
    if (out.empty()) throw Error("split files", "list no clip");
    return out;
}

void apply_split_assignment(Dataset& dataset, const SplitAssignment& assignment) {
    std::map<std::string, Split> by_stem;
    for (const auto& [key, split] : assignment) by_stem.emplace(fs::path(key).stem().string(), split);
    std::erase_if(dataset.clips, [&](Clip& clip) {
        for (const std::string& key : {clip.id, clip.relative_path}) {
            if (auto it = assignment.find(key); it != assignment.end()) {
                clip.split = it->second;
                return false;
            }
        }
        if (auto it = by_stem.find(fs::path(clip.relative_path).stem().string()); it != by_stem.end()) {
            clip.split = it->second;
            return false;
        }
        dataset.skip(clip.id, "not in the split files");
        return true;
    });
}

void assign_splits(Dataset& dataset, const DatasetOptions& options, bool has_own_splits) {
    if (!options.split_files.empty()) {
        apply_split_assignment(dataset, read_split_files(options.split_files));
    } else if (!has_own_splits) {
        stratified_split(dataset, options.seed, options.fractions);
    }
}

void write_split_file(const fs::path& path, const Dataset& dataset) {
    std::ofstream out(path);
    if (!out) throw Error("split file '" + path.string() + "'", "cannot be written");
    out << "path,split\n";
    for (const Clip& clip : dataset.clips)
        out << csv_escape(clip.relative_path.empty() ? clip.id : clip.relative_path) << ","
            << to_string(clip.split) << "\n";
}

}  // namespace mtag::data
