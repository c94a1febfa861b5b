#include "data/pipeline/waveform_cache.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

namespace mtag::data {

namespace fs = std::filesystem;

WaveformCache::WaveformCache(WaveformCacheOptions options) : m_options(options) {
    if (m_options.sample_rate <= 0)
        throw Error("waveform cache", "sample rate must be positive, got " + std::to_string(m_options.sample_rate));
}

std::string WaveformCache::file_key(const fs::path& audio) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(audio, ec);
    if (ec) return {};
    const auto size = fs::file_size(absolute, ec);
    if (ec) return {};
    const auto time = fs::last_write_time(absolute, ec);
    if (ec) return {};
    return absolute.string() + '\n' + std::to_string(size) + '\n' + std::to_string(time.time_since_epoch().count());
}

WaveformCache::Waveform WaveformCache::get(const fs::path& audio) {
    const std::string key = file_key(audio);
    if (!key.empty()) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_entries.find(key); it != m_entries.end()) {
            ++m_hits;
            return it->second;
        }
    }
    // Decoded outside the lock: workers decode different clips concurrently. A missing file (empty key)
    // falls through to load_audio, whose error names the file.
    auto decoded = std::make_shared<std::vector<float>>(
        dsp::load_audio(audio, {.sample_rate = m_options.sample_rate,
                                .mono = true,
                                .resample_quality = m_options.resample_quality})
            .samples);
    decoded->shrink_to_fit();
    ++m_misses;
    Waveform waveform = std::move(decoded);
    const std::size_t size = waveform->size() * sizeof(float);
    if (!key.empty()) {
        std::lock_guard lock(m_mutex);
        auto [it, inserted] = m_entries.try_emplace(key, nullptr);
        if (!inserted) return it->second;  // another worker decoded it meanwhile: share one copy
        if (m_bytes + size <= m_options.max_bytes) {
            it->second = waveform;
            m_bytes += size;
        } else {
            m_entries.erase(it);
        }
    }
    return waveform;
}

std::size_t WaveformCache::bytes() const {
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

}  // namespace mtag::data
