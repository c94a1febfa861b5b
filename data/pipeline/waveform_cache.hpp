#pragma once
// A bounded in-memory cache of decoded clips: mono float audio at one sample rate, as the data loader
// needs it, so that epochs after the first skip decoding and resampling (most of a clip's cost when
// waveform augmentation forces the front end to run online). Augmentation and the front end still run
// on every example; only decode + downmix + resample are cached.
//
// Key: (the file's absolute path, size and modification time, sample rate, resample quality), so an
// edited file, another rate or another converter never hits a stale entry.
// Memory: entries are admitted until `max_bytes` is reached, then later clips are decoded every time
// (no eviction). Under the loader's uniformly random access an LRU would hit just as often (about
// max_bytes / corpus size) but would keep decoding and dropping entries; admit-until-full costs nothing
// once full. Why memory and not memory-mapped .npy files: a run needs no cache folder and leaves no
// gigabytes of float32 audio behind (an hour of audio at 16 kHz is 230 MB); features of runs without
// augmentation have data/feature_cache for that.
// Values are shared read-only (std::shared_ptr<const std::vector<float>>), so an entry a worker holds
// stays valid while others insert. Thread-safe.
#include "dsp/resample.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace mtag::data {

struct WaveformCacheOptions {
    std::size_t max_bytes = std::size_t{1} << 30;  // 1 GiB: the demo corpus (500 x 8 s at 16 kHz) is 256 MB
    int sample_rate = 16000;                         // the rate clips are decoded to
    dsp::ResampleQuality resample_quality = dsp::default_resample_quality;
};

class WaveformCache {
  public:
    using Waveform = std::shared_ptr<const std::vector<float>>;

    // Throws mtag::Error for a non-positive sample rate.
    explicit WaveformCache(WaveformCacheOptions options = {});

    // The clip decoded to mono at the cache's rate: from memory, or decoded now (and kept while the
    // bound allows). Throws mtag::Error when the file cannot be read (failures are not cached).
    Waveform get(const std::filesystem::path& audio);

    const WaveformCacheOptions& options() const { return m_options; }
    std::uint64_t hits() const { return m_hits; }
    std::uint64_t misses() const { return m_misses; }
    std::size_t bytes() const;

  private:
    // The cache key of a file: absolute path, size and modification time; empty when it is missing.
    static std::string file_key(const std::filesystem::path& audio);

    WaveformCacheOptions m_options;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, Waveform> m_entries;
    std::size_t m_bytes = 0;
    std::atomic<std::uint64_t> m_hits{0};
    std::atomic<std::uint64_t> m_misses{0};
};

}  // namespace mtag::data
