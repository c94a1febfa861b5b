#include "data/tag/tagger.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/audio_stream.hpp"
#include "dsp/error.hpp"
#include "dsp/feature_extractor.hpp"
#include "nn/inference_mode.hpp"
#include "nn/model_io.hpp"
#include "nn/models/zoo.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <cmath>

namespace mtag::data {

void activate(std::span<float> logits, Task task) {
    if (task == Task::multilabel) {
        for (float& x : logits) x = 1.0f / (1.0f + std::exp(-x));
        return;
    }
    if (logits.empty()) return;
    const float top = *std::max_element(logits.begin(), logits.end());  // shift for stability
    double sum = 0;
    for (float& x : logits) sum += (x = std::exp(x - top));
    for (float& x : logits) x = static_cast<float>(x / sum);
}

// ---- card adapter ------------------------------------------------------------------------------

std::size_t RunCard::hop_samples() const {
    return waveform ? 1 : static_cast<std::size_t>(features.hop_length);
}

std::size_t RunCard::window_samples() const {
    if (waveform) return input_length;
    const std::size_t hop = hop_samples();
    // What data/clip_pipeline cuts for `input_length` frames (samples_for_frames).
    return features.center ? (input_length - 1) * hop : static_cast<std::size_t>(features.n_fft) + (input_length - 1) * hop;
}

namespace {

const char* chunking_name(EvalChunking e) { return e == EvalChunking::evenly_spaced ? "evenly_spaced" : "non_overlapping"; }

}  // namespace

dsp::FeatureConfig parse_front_end(nlohmann::json json, const std::string& where) {
    const nlohmann::json known = dsp::FeatureConfig::defaults_for(dsp::parse_feature_kind(json.value("kind", "logmel"))).to_json();
    for (auto it = json.begin(); it != json.end();) {
        if (!known.contains(it.key())) it = json.erase(it);
        else ++it;
    }
    return dsp::FeatureConfig::from_json(json, where).resolved();
}

nlohmann::json RunCard::to_metadata() const {
    nlohmann::json m;
    m["features"] = waveform ? nlohmann::json{{"kind", "waveform"}, {"sample_rate", sample_rate}} : features.to_json();
    m["input"] = {{"length", input_length}, {"unit", waveform ? "samples" : "frames"}};
    m["tags"] = tags;
    m["task"] = to_string(task);
    m["normalization"] = normalization ? normalization->to_json() : nlohmann::json(nullptr);
    m["eval_chunking"] = {{"eval", chunking_name(chunking.eval)}, {"eval_chunks", chunking.eval_chunks}};
    return m;
}

RunCard RunCard::from_metadata(const nlohmann::json& metadata, const nn::models::TaggingModel& model,
                               const std::string& where) {
    RunCard c;
    c.architecture = model.config();
    c.preset = model.preset().name;
    if (metadata.contains("card_version")) {  // data/model_card's format
        const ModelCard card = ModelCard::from_json(metadata, where);
        c.waveform = card.is_waveform();
        c.sample_rate = card.sample_rate();
        if (!c.waveform) c.features = card.feature_config();
        c.input_length = card.input_length;
        c.tags = card.tags;
        c.task = card.task;
        if (card.normalization.kind != NormalizationKind::none &&
            !(card.normalization.kind == NormalizationKind::per_bin && card.normalization.mean.empty()))
            c.normalization = card.normalization;
        c.chunking = card.evaluation;
        c.chunking.length = c.input_length;
        c.fixed_input = card.fixed_input;
        c.embedding_only = card.training.value("embedding_only", false);
        if (static_cast<std::int64_t>(c.tags.size()) != model.n_tags())
            throw Error(where, "the card lists " + std::to_string(c.tags.size()) + " tags but the model has " +
                                   std::to_string(model.n_tags()) + " outputs");
        return c;
    }
    try {
        const nlohmann::json features = metadata.contains("features") ? metadata["features"] : model.front_end();
        c.waveform = features.value("kind", std::string()) == "waveform";
        if (c.waveform) {
            c.sample_rate = features.at("sample_rate").get<int>();
        } else {
            c.features = parse_front_end(features, where + " features");
            c.sample_rate = c.features.sample_rate;
        }
        // Input chunk length: the card's, else the model's own input shape (last axis).
        const nn::Shape shape = model.input_shape(1);
        c.input_length = static_cast<std::size_t>(shape[shape.rank() - 1]);
        if (metadata.contains("input") && metadata["input"].contains("length"))
            c.input_length = metadata["input"]["length"].get<std::size_t>();
        else if (metadata.contains("chunk_length"))
            c.input_length = metadata["chunk_length"].get<std::size_t>();
        if (!metadata.contains("tags") || !metadata["tags"].is_array())
            throw Error(where, "the card has no \"tags\" list");
        c.tags = metadata["tags"].get<std::vector<std::string>>();
        if (static_cast<std::int64_t>(c.tags.size()) != model.n_tags())
            throw Error(where, "the card lists " + std::to_string(c.tags.size()) + " tags but the model has " +
                                   std::to_string(model.n_tags()) + " outputs");
        const std::string task = metadata.value("task", std::string("multilabel"));
        if (task == "multilabel" || task == "multi-label") c.task = Task::multilabel;
        else if (task == "singlelabel" || task == "single-label") c.task = Task::singlelabel;
        else throw Error(where, "task '" + task + "' is not multilabel or singlelabel");
        if (metadata.contains("normalization") && !metadata["normalization"].is_null())
            c.normalization = Normalization::from_json(metadata["normalization"]);
        c.chunking.length = c.input_length;
        const char* chunk_keys[] = {"eval_chunking", "chunking"};
        for (const char* key : chunk_keys) {
            if (!metadata.contains(key) || !metadata[key].is_object()) continue;
            const nlohmann::json& e = metadata[key];
            if (e.contains("eval")) {
                const std::string name = e["eval"].get<std::string>();
                if (name == "evenly_spaced") c.chunking.eval = EvalChunking::evenly_spaced;
                else if (name == "non_overlapping") c.chunking.eval = EvalChunking::non_overlapping;
                else throw Error(where, "eval chunking '" + name + "' is not evenly_spaced or non_overlapping");
            }
            if (e.contains("eval_chunks")) c.chunking.eval_chunks = e["eval_chunks"].get<std::size_t>();
            break;
        }
        c.chunking.validate();
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed card: ") + e.what());
    }
    if (c.input_length == 0) throw Error(where, "input chunk length is 0");
    return c;
}

std::vector<std::size_t> chunk_sample_offsets(const RunCard& card, std::size_t total_samples, ChunkLayout layout) {
    ChunkOptions options = card.chunking;
    if (layout == ChunkLayout::all) {
        options.eval = EvalChunking::non_overlapping;
        options.eval_chunks = 0;
    }
    if (options.eval == EvalChunking::evenly_spaced && options.eval_chunks == 1) {
        // One centred chunk (the fixed-input models of Choi et al. crop src[(n - n_fit) / 2 ...]): placed to
        // the sample, since a shift of a fraction of a hop already moves their scores by hundredths.
        const std::size_t length = card.window_samples();
        return {total_samples > length ? (total_samples - length) / 2 : 0};
    }
    const std::size_t total_units =
        card.waveform ? total_samples : static_cast<std::size_t>(card.features.frames_for(static_cast<std::int64_t>(total_samples)));
    std::vector<std::size_t> offsets = eval_chunk_offsets(total_units, options);
    for (std::size_t& o : offsets) o *= card.hop_samples();
    std::sort(offsets.begin(), offsets.end());
    return offsets;
}

// ---- session -------------------------------------------------------------------------------------

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Decodes an AudioStream on its own thread, a bounded number of blocks ahead of the reader, so that
// decoding and resampling the rest of a file overlap the model running on the chunks already read
// (a single file's cold start would otherwise do them one after the other). Memory stays bounded:
// at most `max_blocks` blocks wait. Errors of the decoder thread are rethrown by read().
class PrefetchedStream {
  public:
    explicit PrefetchedStream(dsp::AudioStream& stream, std::size_t max_blocks = 8)
        : m_stream(stream), m_max_blocks(max_blocks), m_thread([this] { run(); }) {}
    ~PrefetchedStream() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_space.notify_all();
        m_thread.join();
    }
    PrefetchedStream(const PrefetchedStream&) = delete;
    PrefetchedStream& operator=(const PrefetchedStream&) = delete;

    // As AudioStream::read: the next block into `out`; false once the stream is exhausted.
    bool read(std::vector<float>& out) {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [&] { return !m_blocks.empty() || m_done; });
        if (m_blocks.empty()) {
            if (m_error) std::rethrow_exception(m_error);
            return false;
        }
        out = std::move(m_blocks.front());
        m_blocks.pop_front();
        const bool more = !m_blocks.empty() || !m_done || m_error;
        m_space.notify_one();
        if (!more && m_error) std::rethrow_exception(m_error);
        return more;
    }

  private:
    void run() {
        try {
            bool more = true;
            while (more) {
                std::vector<float> block;
                more = m_stream.read(block);
                std::unique_lock lock(m_mutex);
                m_space.wait(lock, [&] { return m_blocks.size() < m_max_blocks || m_stop; });
                if (m_stop) break;
                m_blocks.push_back(std::move(block));
                m_ready.notify_one();
            }
        } catch (...) {
            std::lock_guard lock(m_mutex);
            m_error = std::current_exception();
        }
        std::lock_guard lock(m_mutex);
        m_done = true;
        m_ready.notify_all();
    }

    dsp::AudioStream& m_stream;
    std::size_t m_max_blocks;
    std::mutex m_mutex;
    std::condition_variable m_ready, m_space;
    std::deque<std::vector<float>> m_blocks;
    bool m_done = false, m_stop = false;
    std::exception_ptr m_error;
    std::thread m_thread;  // last: started once every other member exists
};

// The centre window of a fixed-input model (Choi et al.'s centre 29.12 s), decoded alone: a 1-hour file needs
// 29 s resampled, not 3600 s resampled and held in memory. The window needs the file's true length, which an
// MP3 header only estimates (libsndfile's frame count was 1.4% long for the two shared songs, which put the
// crop 0.2 s late): an MP3 is decoded once without keeping anything to count its frames, then the window is
// sought. Files barely longer than the window return nullopt: decode them whole.
// The decoded span starts on a frame where the native and the model's sample grids meet (a multiple of
// native / gcd(native, rate) frames) and has a margin on both sides for the resampler's filter, so the
// window holds the samples a whole-file decode gives, up to float rounding.
struct CentreWindow {
    std::vector<float> samples;   // window_samples() samples
    std::size_t total_samples;    // of the whole file at the model's rate
};
std::optional<CentreWindow> decode_centre_window(const std::filesystem::path& path, const RunCard& card,
                                                 const TagOptions& options) {
    const dsp::AudioInfo info = dsp::read_audio_info(path, dsp::FrameCount::exact);
    const std::int64_t frames = info.frames;
    if (frames <= 0) return std::nullopt;
    const std::int64_t native = info.sample_rate, rate = card.sample_rate;
    const auto total = static_cast<std::size_t>(std::llround(static_cast<double>(frames) * rate / native));
    const std::size_t window = card.window_samples();
    const std::size_t margin = static_cast<std::size_t>(rate);  // 1 s: far longer than any converter's filter
    if (total < window + 4 * margin) return std::nullopt;
    const std::size_t offset = chunk_sample_offsets(card, total, ChunkLayout::card).front();
    const std::int64_t g = std::gcd(native, rate);
    const std::int64_t step_out = rate / g, step_native = native / g;
    const std::int64_t first_out = (static_cast<std::int64_t>(offset - std::min(offset, margin)) / step_out) * step_out;
    const std::int64_t first_native = first_out / step_out * step_native;
    const std::int64_t end_out = static_cast<std::int64_t>(std::min(total, offset + window + margin));
    const std::int64_t end_native =
        std::min<std::int64_t>(frames, (end_out * native + rate - 1) / rate);
    const dsp::Audio audio = dsp::load_audio(
        path, {.sample_rate = card.sample_rate,
               .mono = true,
               .offset_seconds = static_cast<double>(first_native) / static_cast<double>(native),
               .duration_seconds = static_cast<double>(end_native - first_native) / static_cast<double>(native),
               .resample_quality = options.resample_quality,
               .mp3_decode = options.mp3_decode});
    CentreWindow crop{std::vector<float>(window, 0.0f), total};
    const std::size_t from = offset - static_cast<std::size_t>(first_out);
    if (from < audio.samples.size()) {
        const std::size_t n = std::min(window, audio.samples.size() - from);
        std::copy_n(audio.samples.begin() + static_cast<std::ptrdiff_t>(from), n, crop.samples.begin());
    }
    return crop;
}
}  // namespace

// ---- a file's sums --------------------------------------------------------------------------------

void ChunkSums::reset(std::size_t n_tags, std::size_t embedding_size) {
    m_scores.assign(n_tags, 0.0);
    m_embedding.assign(embedding_size, 0.0);
    m_taggram.clear();
    m_chunks = 0;
    m_feature_seconds = m_inference_seconds = 0;
}

void ChunkSums::add(const ChunkRows& rows, const TagOptions& options) {
    const std::size_t n = m_scores.size(), d = m_embedding.size();
    for (std::size_t i = 0; i < rows.count; ++i) {
        const float* row = rows.scores.data() + i * n;
        for (std::size_t t = 0; t < n; ++t) m_scores[t] += row[t];
        if (options.taggram) m_taggram.insert(m_taggram.end(), row, row + n);
        if (options.embedding)
            for (std::size_t k = 0; k < d; ++k) m_embedding[k] += rows.embeddings[i * d + k];
    }
    m_chunks += rows.count;
    m_feature_seconds += rows.feature_seconds;
    m_inference_seconds += rows.inference_seconds;
}

TagResult ChunkSums::finish(const TagOptions& options, std::size_t samples, int sample_rate) {
    TagResult r;
    r.duration_seconds = static_cast<double>(samples) / sample_rate;
    r.chunks = m_chunks;
    r.feature_seconds = m_feature_seconds;
    r.inference_seconds = m_inference_seconds;
    r.scores.resize(m_scores.size());
    for (std::size_t t = 0; t < m_scores.size(); ++t) r.scores[t] = static_cast<float>(m_scores[t] / m_chunks);
    if (options.embedding) {
        r.embedding.resize(m_embedding.size());
        for (std::size_t k = 0; k < m_embedding.size(); ++k) r.embedding[k] = static_cast<float>(m_embedding[k] / m_chunks);
    }
    if (options.taggram) r.taggram = std::move(m_taggram);
    return r;
}

// ---- streaming windows -----------------------------------------------------------------------------

std::size_t stream_windows(const RunCard& card, const std::filesystem::path& path, const TagOptions& options,
                           const std::function<void(std::span<float>)>& window_sink, double& decode_seconds) {
    const std::size_t window = card.window_samples();
    std::vector<float> scratch(window);
    const ChunkOptions& layout = card.chunking;
    if (options.layout == ChunkLayout::card && layout.eval == EvalChunking::evenly_spaced && layout.eval_chunks == 1) {
        // One centred window: decode just that window when the header's length is exact, else the whole file
        // (decode_centre_window says why).
        const auto t0 = std::chrono::steady_clock::now();
        if (std::optional<CentreWindow> crop = decode_centre_window(path, card, options)) {
            decode_seconds = seconds_since(t0);
            window_sink(crop->samples);
            return crop->total_samples;
        }
        const dsp::Audio audio = dsp::load_audio(
            path, {.sample_rate = card.sample_rate,
                   .mono = true,
                   .resample_quality = options.resample_quality,
                   .mp3_decode = options.mp3_decode});
        decode_seconds = seconds_since(t0);
        for (std::size_t offset : chunk_sample_offsets(card, audio.samples.size(), options.layout)) {
            copy_chunk(audio.samples, offset, scratch);  // zero-pads past the end (short clips)
            window_sink(scratch);
        }
        return audio.samples.size();
    }
    const auto open_start = std::chrono::steady_clock::now();
    dsp::AudioStream audio(path, card.sample_rate, options.resample_quality, options.mp3_decode);
    decode_seconds = seconds_since(open_start);  // waiting for decoded samples (the rest overlaps)
    PrefetchedStream stream(audio);
    const std::size_t expected = static_cast<std::size_t>(std::max<std::int64_t>(0, audio.expected_samples()));
    const std::vector<std::size_t> offsets = chunk_sample_offsets(card, expected, options.layout);
    // buffer holds samples [base, base + buffer.size()); samples before the next pending window are dropped.
    std::vector<float> buffer, block;
    std::size_t base = 0, next = 0, total = 0;
    bool more = true;
    while (next < offsets.size()) {
        const std::size_t need_end = offsets[next] + window;
        while (more && base + buffer.size() < need_end) {
            block.clear();
            const auto t0 = std::chrono::steady_clock::now();
            more = stream.read(block);
            decode_seconds += seconds_since(t0);
            buffer.insert(buffer.end(), block.begin(), block.end());
            total += block.size();
            // Drop what lies before the pending window at once (sparse evenly spaced chunks of long files).
            const std::size_t drop = std::min(buffer.size(), offsets[next] - std::min(offsets[next], base));
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(drop));
            base += drop;
        }
        // Window [offsets[next], +window) relative to base; zero-padded when the stream ended early.
        copy_chunk(buffer, offsets[next] - base, scratch);
        window_sink(scratch);
        ++next;
        const std::size_t keep_from = next < offsets.size() ? std::min(offsets[next], base + buffer.size()) : base + buffer.size();
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(keep_from - base));
        base = keep_from;
    }
    // Count the samples never needed by a window, for the duration.
    while (more) {
        block.clear();
        const auto t0 = std::chrono::steady_clock::now();
        more = stream.read(block);
        decode_seconds += seconds_since(t0);
        total += block.size();
    }
    return total;
}

// ---- session -------------------------------------------------------------------------------------

struct Session::Impl {
    RunCard card;
    std::shared_ptr<nn::models::TaggingModel> model;
    std::shared_ptr<nn::Module> output;  // the output Linear (logits from the embedding)
    std::unique_ptr<dsp::FeatureExtractor> extractor;
    dsp::FloatMatrix features, chunk;   // reused per window
    std::vector<float> scratch;         // a window normalised in place (waveform models)
    nn::Tensor batch;                   // (B, bins, frames) or (B, samples)
    std::size_t filled = 0;
    std::size_t input_size = 0;         // floats per example
    ChunkRows rows;                     // the last forward pass's outputs
    ChunkSums sums;                     // the file being tagged (tag_file, tag_samples)

    std::size_t batch_rows(const TagOptions& options) const {
        // Mode-2 BatchNorm normalises over the batch: one chunk per pass, as upstream predicted.
        return model->batch_dependent() ? 1 : std::max<std::size_t>(1, options.batch_size);
    }

    void prepare(const TagOptions& options) {
        const auto b = static_cast<std::int64_t>(batch_rows(options));
        const nn::Shape shape = card.waveform ? nn::Shape{b, static_cast<std::int64_t>(card.input_length)}
                                              : nn::Shape{b, card.features.bins(), static_cast<std::int64_t>(card.input_length)};
        if (!batch.defined() || batch.shape() != shape) batch = nn::Tensor(shape);
        filled = 0;
        rows.feature_seconds = rows.inference_seconds = 0;
    }

    void reset(const TagOptions& options) {
        prepare(options);
        sums.reset(card.tags.size(), static_cast<std::size_t>(model->embedding_size()));
    }

    // Featurises one window of window_samples() samples into the next batch row.
    void featurise(std::span<float> window) {
        const auto t0 = std::chrono::steady_clock::now();
        float* row = batch.data() + filled * input_size;
        if (card.waveform) {
            if (card.normalization) card.normalization->apply(window);
            std::copy(window.begin(), window.end(), row);
        } else {
            extractor->compute(window, features);
            chunk.resize(features.rows, card.input_length);
            copy_chunk(features, 0, chunk);
            if (card.normalization) card.normalization->apply(chunk);
            std::copy(chunk.data.begin(), chunk.data.end(), row);
        }
        rows.feature_seconds += seconds_since(t0);
        ++filled;
    }

    // One forward pass over the filled rows into `rows` (activated scores; embeddings when asked).
    void forward(const TagOptions& options) {
        const auto t0 = std::chrono::steady_clock::now();
        const nn::Tensor input = batch.slice(0, static_cast<std::int64_t>(filled));
        // No backward follows: layers keep nothing between batches, so a session's activations are freed as
        // the pass goes (nn/inference_mode.hpp); what stays resident is the storage cache's high-water mark.
        const nn::InferenceMode inference;
        const nn::Tensor e = model->embed(input);
        const nn::Tensor logits = output->forward(e);
        const std::size_t n = card.tags.size();
        const std::size_t d = static_cast<std::size_t>(model->embedding_size());
        rows.count = filled;
        rows.scores.assign(logits.data(), logits.data() + filled * n);
        for (std::size_t i = 0; i < filled; ++i) activate(std::span<float>(rows.scores.data() + i * n, n), card.task);
        if (options.embedding) rows.embeddings.assign(e.data(), e.data() + filled * d);
        else rows.embeddings.clear();
        filled = 0;
        rows.inference_seconds += seconds_since(t0);
    }

    void add_window(std::span<float> window, const TagOptions& options) {
        featurise(window);
        if (filled == static_cast<std::size_t>(batch.dim(0))) flush(options);
    }

    void flush(const TagOptions& options) {
        if (filled == 0) return;
        forward(options);
        sums.add(rows, options);
        rows.feature_seconds = rows.inference_seconds = 0;
    }

    TagResult finish(const TagOptions& options, std::size_t samples) {
        flush(options);
        return sums.finish(options, samples, card.sample_rate);
    }
};

Session::Session(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Session::~Session() = default;

const RunCard& Session::card() const { return m_impl->card; }

std::size_t Session::embedding_size() const { return static_cast<std::size_t>(m_impl->model->embedding_size()); }

std::size_t Session::batch_size(const TagOptions& options) const { return m_impl->batch_rows(options); }

TagResult Session::tag_samples(std::span<const float> samples, const TagOptions& options) {
    Impl& s = *m_impl;
    s.reset(options);
    const std::size_t window = s.card.window_samples();
    std::vector<float> buffer(window);
    for (std::size_t offset : chunk_sample_offsets(s.card, samples.size(), options.layout)) {
        copy_chunk(samples, offset, buffer);  // zero-pads past the end (short clips)
        s.add_window(buffer, options);
    }
    return s.finish(options, samples.size());
}

ChunkRows Session::score_windows(std::span<const float> windows, const TagOptions& options) {
    Impl& s = *m_impl;
    const std::size_t window = s.card.window_samples();
    s.prepare(options);
    const std::size_t n = windows.size() / window;
    if (n * window != windows.size() || n > static_cast<std::size_t>(s.batch.dim(0)))
        throw Error("Session::score_windows", std::to_string(windows.size()) + " samples are not at most " +
                                                  std::to_string(s.batch.dim(0)) + " whole windows of " +
                                                  std::to_string(window));
    s.scratch.resize(window);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(windows.begin() + static_cast<std::ptrdiff_t>(i * window), window, s.scratch.begin());
        s.featurise(s.scratch);
    }
    if (n > 0) s.forward(options);
    else s.rows = ChunkRows{};
    return s.rows;
}

TagResult Session::tag_file(const std::filesystem::path& path, const TagOptions& options) {
    Impl& s = *m_impl;
    s.reset(options);
    double decode_seconds = 0;
    const std::size_t total =
        stream_windows(s.card, path, options, [&](std::span<float> window) { s.add_window(window, options); }, decode_seconds);
    TagResult r = s.finish(options, total);
    r.decode_seconds = decode_seconds;
    return r;
}

// ---- tagger --------------------------------------------------------------------------------------

Tagger::Tagger(const std::filesystem::path& run_dir) : m_dir(run_dir) {
    const std::string where = "run '" + run_dir.string() + "'";
    nn::LoadedModel loaded = nn::load_model(run_dir);
    m_model = std::dynamic_pointer_cast<nn::models::TaggingModel>(loaded.model);
    if (!m_model)
        throw Error(where, "model.json holds a '" + loaded.model->type() + "', not a tagging model (nn/models preset)");
    m_card = RunCard::from_metadata(loaded.card.value("metadata", nlohmann::json::object()), *m_model, where);
    if (!m_card.waveform) dsp::FeatureExtractor check(m_card.features);  // validates the front end once
}

Tagger::~Tagger() = default;

std::int64_t Tagger::embedding_size() const { return m_model->embedding_size(); }

std::unique_ptr<Session> Tagger::session() const {
    auto impl = std::make_unique<Session::Impl>();
    impl->card = m_card;
    if (!m_master_lent.exchange(true)) {
        // The first session runs the loaded model itself: a cold start builds the network once.
        impl->model = m_model;
    } else {
        // Further sessions: their own layers (activation caches), the weights SHARED with the loaded
        // model (eval-mode forward only reads parameters and running statistics).
        impl->model = nn::models::build_from_config(m_card.architecture);
        auto src_params = m_model->parameters();
        auto dst_params = impl->model->parameters();
        for (std::size_t i = 0; i < src_params.size(); ++i) dst_params[i]->value = src_params[i]->value;
        auto src_buffers = m_model->buffers();
        auto dst_buffers = impl->model->buffers();
        for (std::size_t i = 0; i < src_buffers.size(); ++i) dst_buffers[i]->value = src_buffers[i]->value;
    }
    impl->model->eval();
    for (const auto& [name, child] : impl->model->children())
        if (name == impl->model->output_name()) impl->output = child;
    if (!impl->output) throw Error("run '" + m_dir.string() + "'", "model has no output layer");
    if (!m_card.waveform) impl->extractor = std::make_unique<dsp::FeatureExtractor>(m_card.features);
    impl->input_size = m_card.waveform ? m_card.input_length
                                       : static_cast<std::size_t>(m_card.features.bins()) * m_card.input_length;
    return std::unique_ptr<Session>(new Session(std::move(impl)));
}

}  // namespace mtag::data
