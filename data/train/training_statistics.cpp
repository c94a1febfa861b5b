#include "data/train/training_statistics.hpp"

#include "dsp/error.hpp"

#include <atomic>
#include <iostream>
#include <string>
#include <thread>

namespace mtag::data {

namespace {

// Decodes every training clip through the cache on `threads` threads; the error of each clip that failed
// ("" for the others).
std::vector<std::string> decode_all(const Dataset& dataset, const std::vector<std::size_t>& clips,
                                    WaveformCache& waveforms, int threads) {
    std::vector<std::string> reasons(clips.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next++) < clips.size();) {
            try {
                waveforms.get(dataset.clips[clips[i]].audio_path);
            } catch (const std::exception& e) {
                reasons[i] = e.what();
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    return reasons;
}

}  // namespace

Normalization fit_training_statistics(const Dataset& dataset, const std::vector<std::size_t>& train_clips,
                                      WaveformCache& waveforms, const FrontEnd& front_end,
                                      const NormalizationOptions& options,
                                      int threads, bool quiet) {
    const std::vector<std::string> reasons = decode_all(dataset, train_clips, waveforms, threads);
    Dataset readable = dataset;
    std::size_t unreadable = 0;
    for (std::size_t i = 0; i < train_clips.size(); ++i) {
        if (reasons[i].empty()) continue;
        ++unreadable;
        readable.clips[train_clips[i]].split = Split::test;  // out of the statistics only
        if (!quiet)
            std::cerr << "warning: normalisation statistics skip '" << dataset.clips[train_clips[i]].audio_path.string()
                      << "': " << reasons[i] << "\n";
    }
    if (unreadable == train_clips.size())
        throw Error("dataset " + dataset.source.string(), "no training clip can be decoded, e.g. " + reasons.front());
    ClipFeatureFn features = [&](const Clip& clip) {
        // Through the waveform cache, which the decoding pass above filled (clips beyond its bound are decoded
        // again here).
        const WaveformCache::Waveform audio = waveforms.get(clip.audio_path);
        dsp::FloatMatrix m;
        if (front_end) {
            front_end(*audio, m);
        } else {
            m.resize(1, audio->size());
            std::copy(audio->begin(), audio->end(), m.data.begin());
        }
        return m;
    };
    return compute_normalization(readable, features, options, threads);
}

}  // namespace mtag::data
