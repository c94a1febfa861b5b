#pragma once
// A cache of computed features for runs without waveform augmentation: each (audio file, front-end
// config) pair is computed once and stored as a float32 .npy, then read back memory-mapped.
//
// Layout: ROOT/<config hash>/config.json and ROOT/<config hash>/<file stem>-<key>.npy, where the config
// hash is dsp::FeatureConfig::hash() (only the fields that affect the output) and the key hashes the
// audio file's absolute path, size and modification time. A changed config therefore looks in another
// folder, and a changed audio file under another name: stale features are never read. config.json is
// checked against the config on open, so even a hash collision cannot serve the wrong features.
// Writes go through a temporary name and a rename, so concurrent workers never read a partial file.
#include "dsp/feature_config.hpp"
#include "dsp/matrix.hpp"
#include "dsp/npy.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

namespace mtag::data {

class FeatureCache {
  public:
    // Creates ROOT/<hash>/ and its config.json, or checks the existing config.json. Throws mtag::Error
    // when the folder cannot be created or holds another config.
    FeatureCache(const std::filesystem::path& root, const dsp::FeatureConfig& config);

    // The folder of this config's entries.
    const std::filesystem::path& folder() const { return m_folder; }
    // Where the features of `audio` are (or would be) cached; empty when the audio file is missing.
    std::filesystem::path entry_path(const std::filesystem::path& audio) const;
    // The cached features of `audio`, memory-mapped, or nullopt when absent (or of the wrong shape).
    std::optional<dsp::MappedNpy> find(const std::filesystem::path& audio) const;
    // The cached features, computing and storing them first when absent. Thread-safe.
    dsp::MappedNpy get_or_compute(
        const std::filesystem::path& audio,
        const std::function<dsp::FloatMatrix(const std::filesystem::path&)>& compute);

    std::uint64_t hits() const { return m_hits; }
    std::uint64_t misses() const { return m_misses; }

  private:
    std::filesystem::path m_folder;
    std::size_t m_bins = 0;
    mutable std::atomic<std::uint64_t> m_hits{0};
    std::atomic<std::uint64_t> m_misses{0};
};

}  // namespace mtag::data
