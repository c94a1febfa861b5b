#pragma once
// The model card of a run directory: everything besides the weights that a consumer (mtag eval, mtag
// tag, fine-tuning) needs to feed a trained model exactly as in training. It is stored as the
// "metadata" object of nn::save_model's RUNDIR/model.json:
//
//   {"card_version": 1, "mtag_version": "0.1.0",
//    "model": {"preset": "cnn1d", "options": {"preset": "cnn1d", ...}},   // build_model spec
//    "features": {FeatureConfig JSON} | {"kind": "waveform", "sample_rate": 22050},
//    "input": {"frames": 94} | {"samples": 59049},                           // per chunk
//    "tags": ["rock", ...], "task": "multilabel" | "singlelabel",
//    "normalization": {Normalization JSON},
//    "evaluation": {"length": N, "train_crops": 1, "eval": "evenly_spaced", "eval_chunks": 16},
//    "training": {free-form summary: epochs, best epoch, metric, dataset, seconds, ...},
//    "fixed_input": false,                       // optional: scored on one fixed window by default
//    "provenance": {"source", "licence", "citation", "sha256", ...}}   // optional: imported models
//
// Convention: tags[i] is output i of the model (logits; sigmoid for multilabel, softmax for
// singlelabel). The normalisation applies to the front end's output (or to the waveform) before the
// model, with statistics from the training split only.
#include "data/pipeline/chunking.hpp"
#include "data/pipeline/normalization.hpp"
#include "data/run/front_end_config.hpp"
#include "dsp/feature_config.hpp"
#include "nn/models/tagging_model.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mtag::data {

// Multi-label tagging (independent sigmoids, BCE) or single-label classification (softmax, CE).
enum class Task { multilabel, singlelabel };
std::string to_string(Task task);
// Parses "multilabel"/"singlelabel" (also "multi-label", "single-label"); throws mtag::Error.
Task parse_task(const std::string& name);

// ChunkOptions as JSON: {"length", "train_crops", "eval": "evenly_spaced"|"non_overlapping", "eval_chunks"}.
nlohmann::json chunk_options_to_json(const ChunkOptions& options);
// Parses what chunk_options_to_json writes; missing keys keep `defaults`; throws naming the key.
ChunkOptions chunk_options_from_json(const nlohmann::json& json, const ChunkOptions& defaults = {},
                                     const std::string& where = "chunking");

struct ModelCard {
    static constexpr int card_version = 1;
    // Longest chunk a card may describe (10 minutes; published taggers use 3 to 30 s): what one chunk's
    // audio and features may cost in memory stays bounded whatever a card from elsewhere claims.
    static constexpr double max_chunk_seconds = 600.0;

    std::string mtag_version;
    std::string preset;                  // "cnn1d", "short_chunk_cnn", ...
    nlohmann::json model_options;        // spec that rebuilds the architecture with nn::models::build_model
    FrontEndConfig features;             // the front end the model was trained with
    std::size_t input_length = 0;        // frames (features) or samples (waveform) per chunk
    std::vector<std::string> tags;       // output order
    Task task = Task::multilabel;
    Normalization normalization{};
    ChunkOptions evaluation{};           // evaluation chunking (length == input_length)
    nlohmann::json training = nlohmann::json::object();  // training summary (free-form)
    // The model was trained on one fixed window per file (Choi et al.'s centre 29.12 s): `mtag tag` scores
    // that window (the evaluation chunking) by default instead of every non-overlapping chunk.
    bool fixed_input = false;
    // Where imported weights came from: source URL, licence, citation, file checksum (free-form).
    nlohmann::json provenance = nlohmann::json::object();

    // True for sample-level models fed raw audio.
    bool is_waveform() const;
    // The rate audio must be resampled to before the front end or the model.
    int sample_rate() const;
    // The spectral front end; throws mtag::Error for a waveform model.
    dsp::FeatureConfig feature_config() const;
    // Samples of audio one chunk covers (input_length for waveforms; frames via the front end's hop).
    std::size_t chunk_samples() const;
    // sigmoid (multilabel) or softmax (singlelabel), for average_chunk_scores.
    ChunkActivation activation() const;

    // Throws mtag::Error "model card <where>: <field>: got X, expected Y" for any inconsistency (empty or
    // duplicate tags, zero input, bad feature config, normalisation bins vs feature bins, ...).
    void validate(const std::string& where = "model card") const;
    nlohmann::json to_json() const;
    // Parses and validates; unknown card_version or missing keys throw naming the key.
    static ModelCard from_json(const nlohmann::json& json, const std::string& where = "model card");
};

// A trained model with its card, ready for inference (eval mode).
struct RunModel {
    std::shared_ptr<nn::models::TaggingModel> model;
    ModelCard card;
};

// Writes RUNDIR/model.json (architecture + card as metadata) and RUNDIR/model.safetensors.
void save_run(nn::models::TaggingModel& model, const ModelCard& card, const std::filesystem::path& run_dir);

// Loads RUNDIR/model.json and RUNDIR/model.safetensors; checks that the card matches the architecture
// (tag count vs outputs, input length vs the model's input). Throws mtag::Error naming the file.
RunModel load_run(const std::filesystem::path& run_dir);

// Throws mtag::Error "<where>: <field>: got X, expected Y" unless `model` is the architecture `card` describes:
// the same preset, one output per tag, the card's input length, and a front end of the input's kind
// (waveform or spectral) with as many bins as the input has rows.
void check_card_matches_model(const ModelCard& card, const nn::models::TaggingModel& model, const std::string& where);

// Reads only the card of RUNDIR/model.json (no weights).
ModelCard load_card(const std::filesystem::path& run_dir);

// Replaces the card of RUNDIR/model.json, architecture and weights untouched (temp file + rename): the
// trainer's final summary goes into the card of the best model, whose weights are already on disk.
void rewrite_card(const ModelCard& card, const std::filesystem::path& run_dir);

}  // namespace mtag::data
