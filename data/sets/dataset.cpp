#include "data/sets/dataset.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace mtag::data {

namespace fs = std::filesystem;

std::string to_string(Split split) {
    switch (split) {
        case Split::train:
            return "train";
        case Split::valid:
            return "valid";
        case Split::test:
            return "test";
    }
    return "?";
}

std::optional<Split> parse_split(std::string_view text) {
    std::string lower;
    for (char c : text) {
        if (!std::isspace(static_cast<unsigned char>(c)))
            lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (lower == "train" || lower == "training") return Split::train;
    if (lower == "valid" || lower == "validation" || lower == "val" || lower == "dev") return Split::valid;
    if (lower == "test" || lower == "testing" || lower == "eval") return Split::test;
    return std::nullopt;
}

std::size_t Dataset::count(Split split) const {
    return static_cast<std::size_t>(
        std::count_if(clips.begin(), clips.end(), [split](const Clip& c) { return c.split == split; }));
}

std::vector<std::size_t> Dataset::indices(Split split) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < clips.size(); ++i)
        if (clips[i].split == split) out.push_back(i);
    return out;
}

std::vector<std::size_t> Dataset::tag_counts(Split split) const {
    std::vector<std::size_t> counts(vocabulary.size(), 0);
    for (const Clip& clip : clips) {
        if (clip.split != split) continue;
        for (std::size_t t = 0; t < counts.size() && t < clip.tags.size(); ++t) counts[t] += clip.tags[t];
    }
    return counts;
}

double Dataset::hours() const {
    double seconds = 0.0;
    for (const Clip& clip : clips) seconds += clip.duration_seconds.value_or(0.0);
    return seconds / 3600.0;
}

void Dataset::require_usable() const {
    if (!clips.empty() && !vocabulary.empty()) return;
    std::string message = clips.empty() ? "no usable clip" : "no tag in the vocabulary";
    message += " (" + std::to_string(problems.size()) + " items skipped";
    for (std::size_t i = 0; i < problems.size() && i < 3; ++i)
        message += (i == 0 ? ": " : "; ") + problems[i].item + ": " + problems[i].reason;
    if (problems.size() > 3) message += "; ...";
    message += "); check --data and --format, and that the audio files are where the annotations say";
    throw Error(format + " dataset '" + source.string() + "'", message);
}

std::vector<float> Dataset::targets(std::size_t clip_index) const {
    const Clip& clip = clips.at(clip_index);
    return {clip.tags.begin(), clip.tags.end()};
}

nlohmann::ordered_json dataset_stats(const Dataset& dataset) {
    nlohmann::ordered_json out;
    out["format"] = dataset.format;
    out["source"] = dataset.source.string();
    out["splits"] = nlohmann::ordered_json::object();
    for (Split s : all_splits) out["splits"][to_string(s)] = dataset.count(s);
    out["tags"] = dataset.vocabulary;
    out["tag_counts"] = nlohmann::ordered_json::object();
    for (Split s : all_splits) {
        nlohmann::ordered_json counts = nlohmann::ordered_json::object();
        const std::vector<std::size_t> c = dataset.tag_counts(s);
        for (std::size_t t = 0; t < c.size(); ++t) counts[dataset.vocabulary[t]] = c[t];
        out["tag_counts"][to_string(s)] = std::move(counts);
    }
    out["hours"] = dataset.hours();
    out["clips_without_duration"] = std::count_if(dataset.clips.begin(), dataset.clips.end(),
                                                  [](const Clip& c) { return !c.duration_seconds; });
    out["filtered"] = dataset.filtered;
    out["problems"] = nlohmann::ordered_json::array();
    for (const Problem& p : dataset.problems)
        out["problems"].push_back({{"item", p.item}, {"reason", p.reason}});
    return out;
}

void drop_untagged_clips(Dataset& dataset, const std::string& reason) {
    std::vector<std::size_t> totals(dataset.vocabulary.size(), 0);
    for (const Clip& clip : dataset.clips)
        for (std::size_t t = 0; t < totals.size(); ++t) totals[t] += clip.tags[t];
    std::vector<std::size_t> keep;
    for (std::size_t t = 0; t < totals.size(); ++t)
        if (totals[t] > 0) keep.push_back(t);
    if (keep.size() != totals.size()) {
        std::vector<std::string> vocabulary;
        for (std::size_t t : keep) vocabulary.push_back(dataset.vocabulary[t]);
        for (Clip& clip : dataset.clips) {
            std::vector<std::uint8_t> tags;
            for (std::size_t t : keep) tags.push_back(clip.tags[t]);
            clip.tags = std::move(tags);
        }
        dataset.vocabulary = std::move(vocabulary);
    }
    std::erase_if(dataset.clips, [&](const Clip& clip) {
        const bool empty = std::none_of(clip.tags.begin(), clip.tags.end(), [](std::uint8_t v) { return v; });
        if (empty) dataset.skip(clip.id, reason);
        return empty;
    });
}

namespace {

// File identity for the duration cache: size and modification time.
std::string file_stamp(const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return {};
    const auto time = fs::last_write_time(path, ec);
    if (ec) return {};
    return std::to_string(size) + "\t" + std::to_string(time.time_since_epoch().count());
}

}  // namespace

void fill_durations(Dataset& dataset, int threads, const fs::path& cache) {
    // key "path\tsize\tmtime" -> seconds
    std::unordered_map<std::string, double> cached;
    if (!cache.empty()) {
        std::ifstream in(cache);
        std::string line;
        while (std::getline(in, line)) {
            const auto last = line.rfind('\t');
            if (last == std::string::npos) continue;
            try {
                cached[line.substr(0, last)] = std::stod(line.substr(last + 1));
            } catch (const std::exception&) {
                // A damaged line is re-measured.
            }
        }
    }
    std::vector<std::string> errors(dataset.clips.size());
    std::vector<std::string> new_entries(dataset.clips.size());
    std::atomic<std::size_t> next{0};
    auto work = [&]() {
        for (std::size_t i = next++; i < dataset.clips.size(); i = next++) {
            Clip& clip = dataset.clips[i];
            if (clip.duration_seconds) continue;
            const std::string key = clip.audio_path.string() + "\t" + file_stamp(clip.audio_path);
            if (auto it = cached.find(key); it != cached.end()) {
                clip.duration_seconds = it->second;
                continue;
            }
            try {
                clip.duration_seconds =
                    dsp::read_audio_info(clip.audio_path, dsp::FrameCount::exact).duration_seconds();
                std::ostringstream entry;
                entry.precision(17);
                entry << key << "\t" << *clip.duration_seconds;
                new_entries[i] = entry.str();
            } catch (const Error& e) {
                errors[i] = e.what();
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();

    if (!cache.empty()) {
        std::ofstream out(cache, std::ios::app);
        for (const std::string& entry : new_entries)
            if (!entry.empty()) out << entry << "\n";
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < dataset.clips.size(); ++i) {
        if (!errors[i].empty()) {
            dataset.skip(dataset.clips[i].audio_path.string(), "unreadable audio: " + errors[i]);
            continue;
        }
        if (w != i) dataset.clips[w] = std::move(dataset.clips[i]);
        ++w;
    }
    dataset.clips.resize(w);
}

}  // namespace mtag::data
