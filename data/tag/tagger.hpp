#pragma once
// Tagger: a trained run applied to audio files, exactly as the run was trained and validated.
//
// A run directory holds model.json (architecture + card metadata) and model.safetensors. The Tagger
// loads it once; each worker thread then takes its own Session (a private copy of the model, whose
// layers cache activations and are not thread-safe) and tags files:
//   decode -> mono -> resample to the card's rate -> cut chunk windows -> front end per window (the
//   training pipeline featurises each crop's waveform, data/clip_pipeline.hpp) -> normalise with the
//   card's statistics -> model logits -> sigmoid (multi-label) or softmax (single-label) per chunk ->
//   mean over chunks.
// Files are streamed (dsp::AudioStream): memory is one batch of chunks plus the samples between the
// oldest pending window and the read position, whatever the file's length.
//
// Chunk layouts (data/chunking.hpp): all non-overlapping chunks (the default for `mtag tag`, so the
// taggram covers the file) or the card's evaluation layout (evenly spaced K chunks, what `mtag eval`
// and validation use). Offsets are computed in frames and converted to samples (frame * hop_length).
#include "data/pipeline/chunking.hpp"
#include "data/run/model_card.hpp"
#include "data/pipeline/normalization.hpp"
#include "dsp/feature_config.hpp"
#include "dsp/mp3_decoder.hpp"
#include "dsp/resample.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mtag::nn::models {
class TaggingModel;
}

namespace mtag::data {

// What the tagger needs from a run's card (model.json "metadata"), plus the architecture.
// data/model_card.hpp owns the card format: a card with "card_version" is parsed by ModelCard::from_json.
// ADAPTER: cards written before model_card existed (to_metadata below: "input": {"length"},
// "eval_chunking") are still read, falling back to what the model states (front end, input shape).
struct RunCard {
    nlohmann::json architecture;        // model.json "architecture" (TaggingModel config)
    std::string preset;                 // "short_chunk_cnn"
    bool waveform = false;              // raw-waveform model (sample_cnn): no front end
    int sample_rate = 16000;            // audio is resampled to this rate
    dsp::FeatureConfig features{};      // the front end (resolved), when !waveform
    std::size_t input_length = 0;       // model input per chunk: frames, or samples for waveform models
    std::vector<std::string> tags;      // output order
    Task task = Task::multilabel;
    std::optional<Normalization> normalization;  // none: inputs go in unnormalised
    ChunkOptions chunking{};            // evaluation layout (length = input_length)
    bool fixed_input = false;           // trained on one fixed window: score the evaluation layout by default
    bool embedding_only = false;        // a feature extractor whose head is untrained: embeddings only

    // Samples of audio one chunk window spans, and samples between consecutive non-overlapping chunks.
    std::size_t window_samples() const;
    std::size_t hop_samples() const;  // 1 for waveform models, hop_length otherwise

    // The metadata keys this adapter reads (what a test writes into model.json).
    nlohmann::json to_metadata() const;
    // Parses model.json's metadata; `model` supplies the fallbacks. Throws mtag::Error naming `where`.
    static RunCard from_metadata(const nlohmann::json& metadata, const nn::models::TaggingModel& model,
                                 const std::string& where);
};

// Which chunks of a file are scored.
enum class ChunkLayout {
    all,   // every non-overlapping chunk (tail shorter than a chunk dropped; a short file is padded)
    card,  // the run's evaluation layout (e.g. 16 evenly spaced chunks)
};

struct TagOptions {
    ChunkLayout layout = ChunkLayout::all;
    std::size_t batch_size = 8;      // chunks per forward pass (memory: batch_size inputs)
    bool embedding = false;          // also return the penultimate-layer embedding (mean over chunks)
    bool taggram = false;            // also return the per-chunk scores
    dsp::ResampleQuality resample_quality = dsp::default_resample_quality;
    dsp::Mp3Decode mp3_decode = dsp::default_mp3_decode;  // full or reduced-rate MP3 synthesis
};

// One file's result.
struct TagResult {
    double duration_seconds = 0;   // of the decoded audio
    std::size_t chunks = 0;
    std::vector<float> scores;     // [n_tags], probabilities averaged over chunks
    std::vector<float> embedding;  // [embedding_size] when asked
    std::vector<float> taggram;    // [chunks, n_tags] row-major when asked
    // Wall seconds spent per phase on this file (mtag tag --verbose / MTAG_TIMING=1 prints them).
    double decode_seconds = 0;     // reading, decoding, down-mixing and resampling
    double feature_seconds = 0;    // front end and normalisation of every chunk
    double inference_seconds = 0;  // model forward passes and output activation
};

class Tagger;

// The per-chunk outputs of one forward pass over a batch of windows, in window order.
struct ChunkRows {
    std::size_t count = 0;
    std::vector<float> scores;      // [count, n_tags], after sigmoid/softmax
    std::vector<float> embeddings;  // [count, embedding_size] when TagOptions::embedding
    double feature_seconds = 0, inference_seconds = 0;
};

// A file's running sums over its chunks. Rows are added in chunk order (double sums), so a file scored
// by one session or spread over several (tag_file_parallel) gives bit-identical results.
class ChunkSums {
  public:
    void reset(std::size_t n_tags, std::size_t embedding_size);
    void add(const ChunkRows& rows, const TagOptions& options);
    TagResult finish(const TagOptions& options, std::size_t samples, int sample_rate);

  private:
    std::vector<double> m_scores, m_embedding;
    std::vector<float> m_taggram;
    std::size_t m_chunks = 0;
    double m_feature_seconds = 0, m_inference_seconds = 0;
};

// One worker's model instance. Not thread-safe: one Session per thread.
class Session {
public:
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Tags an audio file (streamed). Throws mtag::Error naming the file when it cannot be decoded.
    TagResult tag_file(const std::filesystem::path& path, const TagOptions& options = {});
    // Tags samples already mono at card().sample_rate (tests, and callers that decoded themselves).
    TagResult tag_samples(std::span<const float> samples, const TagOptions& options = {});
    // Featurises and scores `windows` (whole windows of card().window_samples() samples, back to back;
    // at most the batch size of `options`) in one forward pass. What tag_file does per batch; used by
    // tag_file_parallel to spread one file's batches over several sessions.
    ChunkRows score_windows(std::span<const float> windows, const TagOptions& options);
    // The forward-pass batch size `options` gives this model (1 for batch-dependent models).
    std::size_t batch_size(const TagOptions& options) const;
    const RunCard& card() const;
    std::size_t embedding_size() const;

private:
    friend class Tagger;
    struct Impl;
    explicit Session(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

class Tagger {
public:
    // Loads RUN/model.json and RUN/model.safetensors once. Throws mtag::Error naming the run.
    explicit Tagger(const std::filesystem::path& run_dir);
    ~Tagger();

    const RunCard& card() const { return m_card; }
    const std::filesystem::path& run_dir() const { return m_dir; }
    std::size_t n_tags() const { return m_card.tags.size(); }
    std::int64_t embedding_size() const;

    // A model instance for one worker thread, in eval mode: the first call lends the loaded model itself,
    // later calls build their own layers sharing its (read-only) weights. Thread-safe.
    std::unique_ptr<Session> session() const;

private:
    std::filesystem::path m_dir;
    RunCard m_card;
    std::shared_ptr<nn::models::TaggingModel> m_model;  // the loaded model, run by the first session
    mutable std::atomic<bool> m_master_lent{false};
};

// The chunk offsets (in samples) the tagger scores for a signal of `total_samples`, per layout.
std::vector<std::size_t> chunk_sample_offsets(const RunCard& card, std::size_t total_samples, ChunkLayout layout);

// Decodes `path` as a stream (mono, resampled to the card's rate) and calls `window` with each chunk
// window of `layout` in order (card().window_samples() samples, zero-padded past the end). Decoding runs
// on its own thread a few blocks ahead. Returns the number of samples decoded (the duration);
// `decode_seconds` gets the time spent waiting for decoded samples. Throws mtag::Error naming the file.
std::size_t stream_windows(const RunCard& card, const std::filesystem::path& path, const TagOptions& options,
                           const std::function<void(std::span<float>)>& window, double& decode_seconds);

// sigmoid or softmax, in place over one row of logits.
void activate(std::span<float> logits, Task task);

// A FeatureConfig from a card's or a preset's front-end JSON (resolved): keys FeatureConfig does not know
// (chunk length...) are ignored, and a numeric "ref" given as a string is accepted.
dsp::FeatureConfig parse_front_end(nlohmann::json json, const std::string& where);

}  // namespace mtag::data
