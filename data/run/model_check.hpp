#pragma once
// `mtag model check DIR`: validates a model directory that came from elsewhere without trusting it, and
// says what it holds. Unlike load_run, which stops at the first problem, every check runs and the report
// lists every problem found:
//   - model.json: at most nn::model_card_max_bytes, valid JSON, "format": "mtag-model", and a model card
//     (ModelCard::from_json: schema, tags, front end, chunking and normalisation consistent and bounded);
//   - model.safetensors: the bounded, validated reader (header and every tensor's range checked against the
//     file's size before anything is allocated);
//   - the architecture, rebuilt under an allocation budget derived from the weights file's size, is a
//     tagging preset whose name, tag count and input length agree with the card;
//   - every parameter and buffer of that architecture is in the file with its dtype and shape, and the file
//     has no tensor the architecture lacks;
//   - every tensor's values are finite (NaN/Inf counted per tensor);
//   - a front end carried as tensors (choi2017_compact's DFT kernels and mel matrix) is not all zero;
//   - RUNDIR/checkpoint.safetensors and its .prev, when present, read and pass their CRC-32.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mtag::data {

// One tensor of model.safetensors.
struct CheckedTensor {
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::size_t values = 0;
    std::size_t non_finite = 0;  // NaN or infinite values
};

// A training checkpoint found in the directory.
struct CheckedCheckpoint {
    std::string file;    // "checkpoint.safetensors" or "checkpoint.safetensors.prev"
    bool ok = false;
    std::string status;  // "CRC-32 ok", "no checksum (written before checksums existed)" or the error
};

struct ModelCheckReport {
    std::filesystem::path dir;
    std::vector<std::string> problems;  // empty: the directory is sound

    // What was found, as far as the checks got.
    std::string preset;                  // the architecture's preset
    std::string task;                    // multilabel | singlelabel
    std::vector<std::string> tags;
    nlohmann::json front_end;            // the card's front end (FeatureConfig JSON or waveform)
    std::string front_end_summary;       // "logmel at 16000 Hz, n_fft 256, hop 64, 16 bins"
    std::size_t input_length = 0;        // frames or samples per chunk
    std::string input_unit;              // "frames" | "samples"
    double chunk_seconds = 0;
    std::string normalization;           // the normalisation kind
    std::size_t parameters = 0;          // trainable values of the architecture
    std::size_t stored_values = 0;       // values in model.safetensors (parameters and buffers)
    std::vector<CheckedTensor> tensors;  // model.safetensors, by name
    std::uintmax_t card_bytes = 0, weights_bytes = 0;
    std::vector<CheckedCheckpoint> checkpoints;

    bool ok() const { return problems.empty(); }
    // Everything above as one JSON object ("ok", "problems", ...).
    nlohmann::json to_json() const;
};

// Runs every check on `dir`; never throws for a problem of the directory (it goes into the report).
ModelCheckReport check_model_dir(const std::filesystem::path& dir);

}  // namespace mtag::data
