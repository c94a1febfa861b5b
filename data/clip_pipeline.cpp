#include "data/clip_pipeline.hpp"

#include "dsp/error.hpp"
#include "dsp/log_compression.hpp"
#include "dsp/mel.hpp"
#include "dsp/stft.hpp"
#include "dsp/window.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace mtag::data {

FrontEnd make_front_end(const dsp::FeatureConfig& config) {
    const dsp::FeatureConfig c = config.resolved();
    if (c.kind != dsp::FeatureKind::mel && c.kind != dsp::FeatureKind::logmel)
        throw Error("front end", "kind '" + dsp::to_string(c.kind) + "' is not built here yet (mel and logmel are)");
    const dsp::StftOptions stft{.n_fft = c.n_fft,
                                .hop_length = c.hop_length,
                                .win_length = c.win_length,
                                .window = dsp::parse_window_kind(c.window),
                                .center = c.center,
                                .pad_mode = dsp::parse_pad_mode(c.pad_mode)};
    const dsp::MelOptions mel{.sample_rate = static_cast<double>(c.sample_rate),
                              .n_fft = c.n_fft,
                              .n_mels = c.n_mels,
                              .fmin = c.fmin,
                              .fmax = c.fmax,
                              .htk = c.htk,
                              .norm = dsp::parse_mel_norm(c.mel_norm)};
    auto spectrogram = std::make_shared<const dsp::MelSpectrogram>(stft, mel, static_cast<float>(c.power));
    const bool log = c.kind == dsp::FeatureKind::logmel;
    return [spectrogram, c, log](std::span<const float> audio, dsp::FloatMatrix& out) {
        spectrogram->compute(audio, out);
        if (!log || c.log == dsp::LogCompression::none) return;
        if (c.log == dsp::LogCompression::log1p) {
            dsp::log1p_compress(out, static_cast<float>(c.log1p_c));
            return;
        }
        const dsp::DbReference ref = c.ref == "max" ? dsp::DbReference::max() : dsp::DbReference(static_cast<float>(c.ref_value()));
        const std::optional<float> top_db = c.top_db < 0 ? std::nullopt : std::optional<float>(static_cast<float>(c.top_db));
        if (c.is_power()) dsp::power_to_db(out, ref, static_cast<float>(c.amin), top_db);
        else dsp::amplitude_to_db(out, ref, static_cast<float>(c.amin), top_db);
    };
}

void ClipPipelineOptions::validate() const {
    chunking.validate();
    features.validate();
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
            const dsp::MappedNpy mapped = cache->get_or_compute(clip.audio_path, [&](const std::filesystem::path& path) {
                const dsp::Audio audio = dsp::load_audio(
                    path, {.sample_rate = config.sample_rate, .mono = true, .resample_quality = options.resample_quality});
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
            // Decode only the window when the duration is known; else the whole clip, then cut.
            dsp::LoadOptions load{.sample_rate = config.sample_rate, .mono = true,
                                  .resample_quality = options.resample_quality};
            std::vector<float> window;
            if (clip.duration_seconds && *clip.duration_seconds > 0) {
                const auto total = static_cast<std::size_t>(*clip.duration_seconds * config.sample_rate);
                const std::size_t offset = chunk_offset(static_cast<std::size_t>(config.frames_for(total))) * hop;
                load.offset_seconds = static_cast<double>(offset) / config.sample_rate;
                load.duration_seconds = static_cast<double>(window_samples) / config.sample_rate;
                window = dsp::load_audio(clip.audio_path, load).samples;
            } else {
                const dsp::Audio audio = dsp::load_audio(clip.audio_path, load);
                const std::size_t offset =
                    chunk_offset(static_cast<std::size_t>(config.frames_for(static_cast<std::int64_t>(audio.samples.size())))) * hop;
                window.assign(window_samples, 0.0f);
                copy_chunk(audio.samples, offset, window);
            }
            if (window.size() < window_samples) window.resize(window_samples, 0.0f);  // short clip: zero-pad
            if (augment) {
                window = options.augment->apply(window, config.sample_rate, context.seed, context.clip_index, context.epoch)
                             .audio;
                if (window.size() < window_samples) window.resize(window_samples, 0.0f);
            }
            thread_local dsp::FloatMatrix features;
            front_end(window, features);
            copy_chunk(features, 0, out.input);
        }
        if (options.normalization) options.normalization->apply(out.input);
    };
}

}  // namespace mtag::data
