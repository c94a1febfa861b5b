#include "data/pipeline/feature_cache.hpp"

#include "dsp/error.hpp"

#include <unistd.h>
#include <fstream>
#include <sstream>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// 64-bit FNV-1a as 16 hex digits.
std::string fnv1a_hex(const std::string& text) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

}  // namespace

FeatureCache::FeatureCache(const fs::path& root, const dsp::FeatureConfig& config) {
    const dsp::FeatureConfig resolved = config.resolved();
    m_bins = static_cast<std::size_t>(resolved.bins());
    m_folder = root / resolved.hash();
    std::error_code ec;
    fs::create_directories(m_folder, ec);
    if (ec) throw Error("feature cache '" + m_folder.string() + "'", "cannot be created: " + ec.message());
    const nlohmann::json canonical = resolved.canonical_json();
    const fs::path config_file = m_folder / "config.json";
    if (fs::exists(config_file)) {
        nlohmann::json stored;
        try {
            std::ifstream in(config_file);
            stored = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw Error("feature cache '" + config_file.string() + "'",
                        std::string("is not valid JSON (") + e.what() + "); delete the folder");
        }
        if (stored != canonical)
            throw Error(
                "feature cache '" + m_folder.string() + "'",
                "holds features of another config (hash collision or edited config.json); delete the folder");
        return;
    }
    const fs::path tmp = m_folder / ("config.json.tmp" + std::to_string(::getpid()));
    {
        std::ofstream out(tmp);
        out << canonical.dump(2) << "\n";
        if (!out) throw Error("feature cache '" + config_file.string() + "'", "cannot be written");
    }
    fs::rename(tmp, config_file);
}

fs::path FeatureCache::entry_path(const fs::path& audio) const {
    std::error_code ec;
    const fs::path absolute = fs::absolute(audio, ec);
    const auto size = fs::file_size(absolute, ec);
    if (ec) return {};
    const auto time = fs::last_write_time(absolute, ec);
    if (ec) return {};
    std::ostringstream key;
    key << absolute.string() << '\n' << size << '\n' << time.time_since_epoch().count();
    return m_folder / (audio.stem().string() + "-" + fnv1a_hex(key.str()) + ".npy");
}

std::optional<dsp::MappedNpy> FeatureCache::find(const fs::path& audio) const {
    const fs::path path = entry_path(audio);
    if (path.empty() || !fs::exists(path)) return std::nullopt;
    try {
        dsp::MappedNpy mapped(path);
        if (mapped.shape().size() != 2 || mapped.shape()[0] != m_bins) return std::nullopt;
        ++m_hits;
        return mapped;
    } catch (const Error&) {
        return std::nullopt;  // damaged entry: recomputed and replaced
    }
}

dsp::MappedNpy FeatureCache::get_or_compute(const fs::path& audio,
                                            const std::function<dsp::FloatMatrix(const fs::path&)>& compute) {
    if (auto found = find(audio)) return std::move(*found);
    const fs::path path = entry_path(audio);
    if (path.empty()) throw Error("audio file '" + audio.string() + "'", "does not exist");
    const dsp::FloatMatrix features = compute(audio);
    if (features.rows != m_bins)
        throw Error("feature cache", "computed features have " + std::to_string(features.rows) +
                                         " bins, the config " + std::to_string(m_bins));
    dsp::save_npy(path, features);
    ++m_misses;
    return dsp::MappedNpy(path);
}

}  // namespace mtag::data
