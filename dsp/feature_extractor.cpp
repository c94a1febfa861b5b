#include "dsp/feature_extractor.hpp"

#include "dsp/audio_stream.hpp"
#include "dsp/cqt.hpp"
#include "dsp/error.hpp"
#include "dsp/log_compression.hpp"
#include "dsp/mel.hpp"
#include "dsp/mfcc.hpp"
#include "dsp/stft.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <span>

namespace mtag::dsp {

namespace {

// While streaming, the signal's length is unknown; frames whose samples have all arrived are the same
// for any length at least that long, so they are computed as if the signal were this long.
constexpr std::int64_t kUnknownLength = std::numeric_limits<std::int64_t>::max() / 4;
// Frames per streamed chunk: bounds the scratch of one transform call.
constexpr std::int64_t kChunkFrames = 2048;

StftOptions stft_options(const FeatureConfig& c) {
    return StftOptions{.n_fft = c.n_fft,
                       .hop_length = c.hop_length,
                       .win_length = c.win_length,
                       .window = parse_window_kind(c.window),
                       .center = c.center,
                       .pad_mode = parse_pad_mode(c.pad_mode)};
}

MelOptions mel_options(const FeatureConfig& c) {
    return MelOptions{.sample_rate = static_cast<double>(c.sample_rate),
                      .n_fft = c.n_fft,
                      .n_mels = c.n_mels,
                      .fmin = c.fmin,
                      .fmax = c.fmax,
                      .htk = c.htk,
                      .norm = parse_mel_norm(c.mel_norm)};
}

CqtOptions cqt_options(const FeatureConfig& c) {
    CqtOptions o;
    o.sample_rate = c.sample_rate;
    o.hop_length = c.hop_length;
    o.fmin = c.fmin;
    o.n_bins = c.n_bins;
    o.bins_per_octave = c.bins_per_octave;
    o.filter_scale = c.filter_scale;
    o.norm = c.cqt_norm;
    o.sparsity = c.sparsity;
    o.window = c.window;
    o.scale = c.cqt_scale;
    o.pad_mode = parse_cqt_pad_mode(c.pad_mode);
    return o;
}

std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

// The streaming state. STFT-based kinds run the STFT's frame-range interface on the samples that have
// arrived; the CQT (whose plan transforms whole signals) runs on overlapping segments that start on a
// multiple of Cqt::alignment(), with Cqt::reach() samples of context, and keeps the segment's interior
// frames.
struct FeatureExtractor::Impl {
    std::optional<Stft> stft;           // stft kind
    std::optional<MelSpectrogram> mel;  // mel, logmel, mfcc
    std::optional<Cqt> cqt;             // cqt
    std::optional<Mfcc> mfcc;

    std::vector<float> buffer;  // samples [buffer_offset, received)
    std::int64_t buffer_offset = 0;
    std::int64_t received = 0;
    std::int64_t next_frame = 0;
    std::vector<FloatMatrix> chunks;  // computed frames, in order, [bins, chunk frames]
    ChunkSink sink;                   // when set, chunks go here instead (begin(sink))

    void emit(FloatMatrix&& chunk) {
        if (sink) sink(chunk);
        else chunks.push_back(std::move(chunk));
    }
    FloatMatrix scratch;
    std::vector<float> segment;

    std::int64_t cqt_align = 1;   // segment starts are multiples of this
    std::int64_t cqt_margin = 0;  // samples computed but discarded at inner segment edges
};

FeatureExtractor::FeatureExtractor(const FeatureConfig& config)
    : m_config(config.resolved()), m_impl(std::make_unique<Impl>()) {
    const FeatureConfig& c = m_config;
    switch (c.kind) {
        case FeatureKind::stft:
            m_impl->stft.emplace(stft_options(c));
            break;
        case FeatureKind::mel:
        case FeatureKind::logmel:
            m_impl->mel.emplace(stft_options(c), mel_options(c), static_cast<float>(c.power));
            break;
        case FeatureKind::mfcc:
            m_impl->mel.emplace(stft_options(c), mel_options(c), static_cast<float>(c.power));
            m_impl->mfcc.emplace(c.n_mels,
                                 MfccOptions{.n_mfcc = c.n_mfcc, .lifter = static_cast<float>(c.lifter)});
            break;
        case FeatureKind::cqt: {
            Cqt& cqt = m_impl->cqt.emplace(cqt_options(c));
            // Segments start on multiples of the hop and of every decimation step and carry reach()
            // samples of context on each side: their interior frames equal the whole-signal ones.
            m_impl->cqt_align =
                std::lcm(static_cast<std::int64_t>(c.hop_length), static_cast<std::int64_t>(cqt.alignment()));
            m_impl->cqt_margin = round_up(static_cast<std::int64_t>(cqt.reach()), m_impl->cqt_align);
            break;
        }
    }
}

FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
FeatureExtractor& FeatureExtractor::operator=(FeatureExtractor&&) noexcept = default;

std::size_t FeatureExtractor::buffered_samples() const {
    return m_impl->buffer.size();
}

void FeatureExtractor::begin() {
    begin(ChunkSink());
}

void FeatureExtractor::begin(ChunkSink sink) {
    Impl& s = *m_impl;
    s.buffer.clear();
    s.buffer_offset = 0;
    s.received = 0;
    s.next_frame = 0;
    s.chunks.clear();
    s.sink = std::move(sink);
}

namespace {

// Computes frames [first, first + count) of an STFT-based kind from a block into `out` [bins, count].
void stft_frames(const std::optional<Stft>& stft, const std::optional<MelSpectrogram>& mel, double power,
                 const SignalBlock& block, std::int64_t first, std::int64_t count, FloatMatrix& out) {
    if (mel)
        mel->compute_frames(block, first, count, out);
    else
        stft->spectrogram_frames(block, first, count, static_cast<float>(power), out);
}

}  // namespace

void FeatureExtractor::compute(std::span<const float> samples, FloatMatrix& out) {
    // The whole signal is at hand: run each transform on it directly (no block copies), then the same
    // compression as finish().
    Impl& s = *m_impl;
    begin();
    if (samples.empty()) throw Error("feature extraction", "the signal is empty (0 samples)");
    FloatMatrix& target = s.mfcc ? s.scratch : out;
    if (s.cqt) {
        s.cqt->compute(samples, target);
    } else if (s.mel) {
        s.mel->compute(samples, target);
    } else {
        const std::int64_t length = static_cast<std::int64_t>(samples.size());
        const std::int64_t frames = s.stft->frame_count(length);
        if (frames == 0)
            throw Error("feature extraction",
                        "the signal has " + std::to_string(length) + " samples, fewer than n_fft=" +
                            std::to_string(m_config.n_fft) + " with center=false: no frame fits");
        stft_frames(s.stft, s.mel, m_config.power, SignalBlock{samples, 0, length}, 0, frames, target);
    }
    postprocess(target, out);
}

bool FeatureExtractor::has_frame_ranges() const { return !m_impl->cqt; }

std::int64_t FeatureExtractor::frame_count(std::int64_t length) const {
    const Impl& s = *m_impl;
    if (s.cqt) return static_cast<std::int64_t>(s.cqt->n_frames(static_cast<std::size_t>(length)));
    return (s.mel ? s.mel->stft() : *s.stft).frame_count(length);
}

std::pair<std::int64_t, std::int64_t> FeatureExtractor::samples_for_frames(std::int64_t first, std::int64_t count,
                                                                           std::int64_t length) const {
    const Impl& s = *m_impl;
    if (s.cqt) throw Error("feature extraction", "cqt has no frame-range interface; stream the signal instead");
    const SampleRange r = (s.mel ? s.mel->stft() : *s.stft).samples_for_frames(first, count, length);
    return {r.begin, r.end};
}

void FeatureExtractor::compute_frames(std::span<const float> samples, std::int64_t offset, std::int64_t length,
                                      std::int64_t first, std::int64_t count, FloatMatrix& out) {
    const Impl& s = *m_impl;
    if (s.cqt) throw Error("feature extraction", "cqt has no frame-range interface; stream the signal instead");
    const SignalBlock block{samples, offset, length < 0 ? kUnknownLength : length};
    stft_frames(s.stft, s.mel, m_config.power, block, first, count, out);
}

void FeatureExtractor::compute_file(const std::filesystem::path& path, FloatMatrix& out,
                                    ResampleQuality quality, Mp3Decode mp3_decode) {
    AudioStream stream(path, m_config.sample_rate, quality, mp3_decode);
    begin();
    std::vector<float> block;
    while (true) {
        block.clear();
        if (!stream.read(block)) break;
        push(block);
    }
    try {
        finish(out);
    } catch (const Error& e) {
        throw Error("audio file '" + path.string() + "'", e.what());
    }
}

void FeatureExtractor::push(std::span<const float> samples) {
    Impl& s = *m_impl;
    s.buffer.insert(s.buffer.end(), samples.begin(), samples.end());
    s.received += static_cast<std::int64_t>(samples.size());

    if (s.cqt) {
        // Segments of kChunkFrames frames whose right margin has arrived.
        const std::int64_t hop = m_config.hop_length;
        while (true) {
            const std::int64_t first = s.next_frame;
            const std::int64_t last = first + kChunkFrames;  // exclusive
            const std::int64_t start =
                std::max<std::int64_t>(0, first * hop - s.cqt_margin) / s.cqt_align * s.cqt_align;
            const std::int64_t stop = last * hop + s.cqt_margin;
            if (stop > s.received) break;
            const std::span<const float> segment(s.buffer.data() + (start - s.buffer_offset),
                                                 static_cast<std::size_t>(stop - start));
            s.cqt->compute(segment, s.scratch);
            FloatMatrix chunk(s.scratch.rows, static_cast<std::size_t>(kChunkFrames));
            const std::size_t skip = static_cast<std::size_t>(first - start / hop);
            for (std::size_t r = 0; r < chunk.rows; ++r)
                std::copy_n(s.scratch.row(r).begin() + static_cast<std::ptrdiff_t>(skip), chunk.cols,
                            chunk.row(r).begin());
            s.emit(std::move(chunk));
            s.next_frame = last;
            // Drop what the next segment no longer needs.
            const std::int64_t keep_from =
                std::max<std::int64_t>(0, s.next_frame * hop - s.cqt_margin) / s.cqt_align * s.cqt_align;
            if (keep_from > s.buffer_offset) {
                s.buffer.erase(s.buffer.begin(), s.buffer.begin() + (keep_from - s.buffer_offset));
                s.buffer_offset = keep_from;
            }
        }
        return;
    }

    const Stft& stft = s.mel ? s.mel->stft() : *s.stft;
    const std::int64_t hop = stft.hop_length();
    const std::int64_t pad = m_config.center ? m_config.n_fft / 2 : 0;
    // Frame t is ready when its last sample, t*hop - pad + n_fft, has arrived.
    std::int64_t ready =
        s.received + pad - m_config.n_fft < 0 ? 0 : 1 + (s.received + pad - m_config.n_fft) / hop;
    // Reflect padding at the start mirrors samples up to pad + 1.
    while (ready > s.next_frame &&
           stft.samples_for_frames(s.next_frame, ready - s.next_frame, kUnknownLength).end > s.received)
        --ready;
    while (s.next_frame < ready) {
        const std::int64_t count = std::min(kChunkFrames, ready - s.next_frame);
        const SignalBlock block{s.buffer, s.buffer_offset, kUnknownLength};
        FloatMatrix chunk;
        stft_frames(s.stft, s.mel, m_config.power, block, s.next_frame, count, chunk);
        s.emit(std::move(chunk));
        s.next_frame += count;
    }
    // Keep the samples the next frames (and the end's reflect padding) may need: from the next frame's
    // start, and never fewer than the last n_fft + hop samples.
    const std::int64_t keep_from = std::min(s.next_frame * hop - pad, s.received - m_config.n_fft - hop);
    if (keep_from - s.buffer_offset > static_cast<std::int64_t>(s.buffer.size() / 2) &&
        keep_from > s.buffer_offset) {
        s.buffer.erase(s.buffer.begin(), s.buffer.begin() + (keep_from - s.buffer_offset));
        s.buffer_offset = keep_from;
    }
}

void FeatureExtractor::finish(FloatMatrix& out) {
    finish_frames();
    Impl& s = *m_impl;
    // Assemble the chunks into [bins, frames].
    const std::size_t rows = s.chunks.empty() ? static_cast<std::size_t>(bins()) : s.chunks.front().rows;
    std::size_t frames = 0;
    for (const FloatMatrix& chunk : s.chunks) frames += chunk.cols;
    FloatMatrix& target = s.mfcc ? s.scratch : out;
    target.resize(rows, frames);
    std::size_t column = 0;
    for (FloatMatrix& chunk : s.chunks) {
        for (std::size_t r = 0; r < rows; ++r)
            std::copy(chunk.row(r).begin(), chunk.row(r).end(),
                      target.row(r).begin() + static_cast<std::ptrdiff_t>(column));
        column += chunk.cols;
        chunk = FloatMatrix();  // release as we go: peak memory stays near one copy of the feature
    }
    s.chunks.clear();
    postprocess(target, out);
}

void FeatureExtractor::finish_frames() {
    Impl& s = *m_impl;
    const std::int64_t length = s.received;
    if (length == 0) throw Error("feature extraction", "the signal is empty (0 samples)");

    if (s.cqt) {
        const std::int64_t total =
            static_cast<std::int64_t>(s.cqt->n_frames(static_cast<std::size_t>(length)));
        if (s.next_frame < total) {
            const std::int64_t hop = m_config.hop_length;
            const std::int64_t start =
                std::max<std::int64_t>(0, s.next_frame * hop - s.cqt_margin) / s.cqt_align * s.cqt_align;
            const std::span<const float> segment(s.buffer.data() + (start - s.buffer_offset),
                                                 static_cast<std::size_t>(length - start));
            s.cqt->compute(segment, s.scratch);
            const std::size_t skip = static_cast<std::size_t>(s.next_frame - start / hop);
            const std::size_t count =
                std::min<std::size_t>(static_cast<std::size_t>(total - s.next_frame), s.scratch.cols - skip);
            FloatMatrix chunk(s.scratch.rows, count);
            for (std::size_t r = 0; r < chunk.rows; ++r)
                std::copy_n(s.scratch.row(r).begin() + static_cast<std::ptrdiff_t>(skip), count,
                            chunk.row(r).begin());
            s.emit(std::move(chunk));
            s.next_frame += static_cast<std::int64_t>(count);
        }
    } else {
        const Stft& stft = s.mel ? s.mel->stft() : *s.stft;
        const std::int64_t total = stft.frame_count(length);
        if (total == 0)
            throw Error("feature extraction",
                        "the signal has " + std::to_string(length) + " samples, fewer than n_fft=" +
                            std::to_string(m_config.n_fft) + " with center=false: no frame fits");
        if (m_config.center && m_config.pad_mode == "reflect" && length < 2)
            throw Error("feature extraction", "cannot reflect-pad a signal of one sample");
        while (s.next_frame < total) {
            const std::int64_t count = std::min(kChunkFrames, total - s.next_frame);
            const SignalBlock block{s.buffer, s.buffer_offset, length};
            FloatMatrix chunk;
            stft_frames(s.stft, s.mel, m_config.power, block, s.next_frame, count, chunk);
            s.emit(std::move(chunk));
            s.next_frame += count;
        }
    }
    s.buffer.clear();
    s.buffer.shrink_to_fit();
}

void FeatureExtractor::compress(FloatMatrix& linear, FloatMatrix& out) {
    postprocess(linear, out);  // mfcc: the DCT writes `out`; every other kind is compressed in place
    if (!m_impl->mfcc) out = std::move(linear);
}

void FeatureExtractor::postprocess(FloatMatrix& target, FloatMatrix& out) {
    // Log compression over the whole feature (top_db and ref=max are global, as in librosa).
    const FeatureConfig& c = m_config;
    if (c.log == LogCompression::db) {
        const std::optional<float> top_db =
            c.top_db < 0 ? std::nullopt : std::optional<float>(static_cast<float>(c.top_db));
        const DbReference ref =
            c.ref.is_max() ? DbReference::max() : DbReference(static_cast<float>(c.ref_value()));
        if (c.db_of_power())
            power_to_db(target, ref, static_cast<float>(c.amin), top_db);
        else
            amplitude_to_db(target, ref, static_cast<float>(c.amin), top_db);
    } else if (c.log == LogCompression::log1p) {
        log1p_compress(target, static_cast<float>(c.log1p_c));
    }
    if (m_impl->mfcc) m_impl->mfcc->compute(target, out);
}

}  // namespace mtag::dsp
