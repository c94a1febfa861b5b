#include "data/pipeline/clip_pipeline.hpp"

#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>

namespace mtag::data {

namespace {

// FeatureExtractors are stateful (buffers, streaming state): one per concurrent caller, kept for reuse.
class ExtractorPool {
  public:
    explicit ExtractorPool(const dsp::FeatureConfig& config) : m_config(config) {
        m_free.push_back(std::make_unique<dsp::FeatureExtractor>(m_config));  // validates the config now
    }
    std::unique_ptr<dsp::FeatureExtractor> acquire() {
        {
            std::lock_guard lock(m_mutex);
            if (!m_free.empty()) {
                auto extractor = std::move(m_free.back());
                m_free.pop_back();
                return extractor;
            }
        }
        return std::make_unique<dsp::FeatureExtractor>(m_config);
    }
    void release(std::unique_ptr<dsp::FeatureExtractor> extractor) {
        std::lock_guard lock(m_mutex);
        m_free.push_back(std::move(extractor));
    }

  private:
    dsp::FeatureConfig m_config;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<dsp::FeatureExtractor>> m_free;
};

}  // namespace

FrontEnd make_front_end(const dsp::FeatureConfig& config) {
    auto pool = std::make_shared<ExtractorPool>(config);
    return [pool](std::span<const float> audio, dsp::FloatMatrix& out) {
        auto extractor = pool->acquire();
        try {
            extractor->compute(audio, out);
        } catch (...) {
            pool->release(std::move(extractor));
            throw;
        }
        pool->release(std::move(extractor));
    };
}

void ClipPipelineOptions::validate() const {
    chunking.validate();
    features.validate();
    if (waveforms) {
        const int rate = features.resolved().sample_rate;
        if (waveforms->options().sample_rate != rate ||
            waveforms->options().resample_quality != resample_quality)
            throw Error("clip pipeline",
                        "the waveform cache decodes to " + std::to_string(waveforms->options().sample_rate) +
                            " Hz (" + dsp::to_string(waveforms->options().resample_quality) +
                            "), the front end needs " + std::to_string(rate) + " Hz (" +
                            dsp::to_string(resample_quality) + ")");
    }
}

std::size_t samples_for_frames(const dsp::FeatureConfig& config, std::size_t frames) {
    const dsp::FeatureConfig c = config.resolved();
    const std::size_t hop = static_cast<std::size_t>(c.hop_length);
    if (frames == 0) return 0;
    return c.center ? (frames - 1) * hop : static_cast<std::size_t>(c.n_fft) + (frames - 1) * hop;
}

namespace {

// Copies frames [offset, offset + out.cols) of a mapped [bins, frames] .npy into `out`, zero-padding.
void copy_mapped_chunk(const dsp::MappedNpy& mapped, std::size_t offset, dsp::FloatMatrix& out) {
    for (std::size_t b = 0; b < out.rows; ++b) copy_chunk(mapped.row(b), offset, out.row(b));
}

}  // namespace

SampleFn make_clip_sample_fn(const ClipPipelineOptions& options, FrontEnd front_end) {
    options.validate();
    if (!front_end) throw Error("clip pipeline", "no front end");
    const dsp::FeatureConfig config = options.features.resolved();
    const std::size_t frames = options.chunking.length;
    const std::size_t bins = static_cast<std::size_t>(config.bins());
    const std::size_t hop = static_cast<std::size_t>(config.hop_length);
    const std::size_t window_samples = samples_for_frames(config, frames);
    const bool augment = options.train && options.augment != nullptr;
    FeatureCache* cache = augment ? nullptr : options.cache;

    return [=](const Clip& clip, const SampleContext& context, Sample& out) {
        std::mt19937_64 rng(context.seed);
        out.input.resize(bins, frames);
        // Offset (in frames) of this example's chunk, given the clip's length in frames.
        auto chunk_offset = [&](std::size_t total_frames) -> std::size_t {
            if (options.train) return random_crop_offsets(total_frames, frames, 1, rng)[0];
            const std::vector<std::size_t> offsets = eval_chunk_offsets(total_frames, options.chunking);
            return offsets[context.repeat % offsets.size()];
        };
        if (cache) {
            const dsp::MappedNpy mapped =
                cache->get_or_compute(clip.audio_path, [&](const std::filesystem::path& path) {
                    const dsp::Audio audio =
                        dsp::load_audio(path, {.sample_rate = config.sample_rate,
                                               .mono = true,
                                               .resample_quality = options.resample_quality});
                    dsp::FloatMatrix full;
                    if (audio.samples.size() < window_samples) {
                        // Pad short clips in the waveform domain, so the padding is silence to the front end.
                        std::vector<float> padded(audio.samples);
                        padded.resize(window_samples, 0.0f);
                        front_end(padded, full);
                    } else {
                        front_end(audio.samples, full);
                    }
                    return full;
                });
            copy_mapped_chunk(mapped, chunk_offset(mapped.shape()[1]), out.input);
        } else {
            // Per-thread buffers, reused by every example this worker builds.
            thread_local std::vector<float> window;
            thread_local dsp::FloatMatrix features;
            window.assign(window_samples, 0.0f);  // zero-padded when the clip is short
            if (options.waveforms) {
                const WaveformCache::Waveform audio = options.waveforms->get(clip.audio_path);
                const std::size_t offset = chunk_offset(static_cast<std::size_t>(
                                               config.frames_for(static_cast<std::int64_t>(audio->size())))) *
                                           hop;
                copy_chunk(*audio, offset, window);
            } else if (clip.duration_seconds && *clip.duration_seconds > 0) {
                // Decode only the window when the duration is known; else the whole clip, then cut.
                const auto total = static_cast<std::size_t>(*clip.duration_seconds * config.sample_rate);
                const std::size_t offset =
                    chunk_offset(static_cast<std::size_t>(config.frames_for(total))) * hop;
                const dsp::Audio audio = dsp::load_audio(
                    clip.audio_path, {.sample_rate = config.sample_rate,
                                      .mono = true,
                                      .offset_seconds = static_cast<double>(offset) / config.sample_rate,
                                      .duration_seconds = static_cast<double>(window_samples) / config.sample_rate,
                                      .resample_quality = options.resample_quality});
                std::copy_n(audio.samples.begin(), std::min(audio.samples.size(), window_samples), window.begin());
            } else {
                const dsp::Audio audio = dsp::load_audio(
                    clip.audio_path,
                    {.sample_rate = config.sample_rate, .mono = true, .resample_quality = options.resample_quality});
                const std::size_t offset = chunk_offset(static_cast<std::size_t>(config.frames_for(
                                               static_cast<std::int64_t>(audio.samples.size())))) *
                                           hop;
                copy_chunk(audio.samples, offset, window);
            }
            if (augment) {
                options.augment->apply_in_place(window, config.sample_rate, context.seed, context.clip_index,
                                                context.epoch);
                window.resize(window_samples, 0.0f);  // a crop transform may have shortened it
            }
            front_end(window, features);
            copy_chunk(features, 0, out.input);
        }
        if (options.normalization) options.normalization->apply(out.input);
    };
}

SampleFn make_waveform_sample_fn(int sample_rate, ChunkOptions chunking, bool train, const dsp::AugmentPipeline* augment,
                                 const Normalization* normalization, WaveformCache* waveforms) {
    return [=](const Clip& clip, const SampleContext& context, Sample& out) {
        std::mt19937_64 rng(context.seed);
        const WaveformCache::Waveform audio = waveforms->get(clip.audio_path);
        const std::size_t length = chunking.length;
        const std::size_t offset = train ? random_crop_offsets(audio->size(), length, 1, rng)[0] : [&] {
            const auto offsets = eval_chunk_offsets(audio->size(), chunking);
            return offsets[context.repeat % offsets.size()];
        }();
        std::vector<float> window(length, 0.0f);
        copy_chunk(*audio, offset, window);
        if (train && augment) {
            window = augment->apply(window, sample_rate, context.seed, context.clip_index, context.epoch).audio;
            window.resize(length, 0.0f);
        }
        if (normalization) normalization->apply(std::span<float>(window));
        out.input.resize(1, length);
        std::copy(window.begin(), window.end(), out.input.data.begin());
    };
}

}  // namespace mtag::data
