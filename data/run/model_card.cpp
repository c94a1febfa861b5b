#include "data/run/model_card.hpp"

#include "dsp/error.hpp"
#include "nn/model_io.hpp"
#include "nn/models/tagging_model.hpp"

#include <cstdio>
#include <fstream>
#include <set>

namespace mtag::data {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& field, const std::string& got,
                       const std::string& expected) {
    throw Error(where, field + ": got " + got + ", expected " + expected);
}

// "4e+09", "29.12": short and exact enough for a message.
std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", seconds);
    return text;
}

const nlohmann::json& require(const nlohmann::json& json, const char* key, const std::string& where) {
    if (!json.is_object() || !json.contains(key)) fail(where, key, "nothing (missing key)", "a value");
    return json.at(key);
}

}  // namespace

std::string to_string(Task task) { return task == Task::multilabel ? "multilabel" : "singlelabel"; }

Task parse_task(const std::string& name) {
    if (name == "multilabel" || name == "multi-label" || name == "multi_label") return Task::multilabel;
    if (name == "singlelabel" || name == "single-label" || name == "single_label") return Task::singlelabel;
    throw Error("task", "got '" + name + "', expected multilabel or singlelabel");
}

nlohmann::json chunk_options_to_json(const ChunkOptions& o) {
    return {{"length", o.length},
            {"train_crops", o.train_crops},
            {"eval", o.eval == EvalChunking::evenly_spaced ? "evenly_spaced" : "non_overlapping"},
            {"eval_chunks", o.eval_chunks}};
}

ChunkOptions chunk_options_from_json(const nlohmann::json& json, const ChunkOptions& defaults, const std::string& where) {
    if (!json.is_object()) fail(where, "chunking", json.dump(), "an object");
    ChunkOptions o = defaults;
    for (const auto& [key, value] : json.items()) {
        if (key == "length" || key == "train_crops" || key == "eval_chunks") {
            if (!value.is_number_unsigned()) fail(where, key, value.dump(), "a non-negative integer");
            const auto v = value.get<std::size_t>();
            (key == "length" ? o.length : key == "train_crops" ? o.train_crops : o.eval_chunks) = v;
        } else if (key == "eval") {
            const std::string s = value.is_string() ? value.get<std::string>() : value.dump();
            if (s == "evenly_spaced") o.eval = EvalChunking::evenly_spaced;
            else if (s == "non_overlapping") o.eval = EvalChunking::non_overlapping;
            else fail(where, "eval", s, "evenly_spaced or non_overlapping");
        } else {
            fail(where, "key '" + key + "'", "unknown", "length, train_crops, eval, eval_chunks");
        }
    }
    return o;
}

bool ModelCard::is_waveform() const { return features.is_waveform(); }

int ModelCard::sample_rate() const { return features.sample_rate(); }

dsp::FeatureConfig ModelCard::feature_config() const { return features.features(); }

std::size_t ModelCard::chunk_samples() const {
    if (is_waveform()) return input_length;
    const dsp::FeatureConfig c = feature_config();
    if (input_length == 0) return 0;
    const auto hop = static_cast<std::size_t>(c.hop_length);
    return c.center ? (input_length - 1) * hop : static_cast<std::size_t>(c.n_fft) + (input_length - 1) * hop;
}

ChunkActivation ModelCard::activation() const {
    return task == Task::multilabel ? ChunkActivation::sigmoid : ChunkActivation::softmax;
}

void ModelCard::validate(const std::string& where) const {
    if (preset.empty()) fail(where, "model.preset", "an empty name", "a preset name");
    if (!model_options.is_object() && !model_options.is_string())
        fail(where, "model.options", model_options.dump(), "a build_model spec (object or preset name)");
    // The front end was validated when it was built (FrontEndConfig).
    const auto bins = static_cast<std::size_t>(features.bins());
    if (is_waveform() &&
        (normalization.kind == NormalizationKind::per_bin || normalization.kind == NormalizationKind::pca_whiten))
        fail(where, "normalization.kind", to_string(normalization.kind),
             "global, per_sample, mean or none for a waveform model");
    if (input_length == 0) fail(where, "input", "0", "a positive number of frames or samples per chunk");
    // Every consumer allocates a chunk's audio and features: a card from elsewhere claiming a chunk of days
    // must fail here rather than in the allocator (computed in double: no wrap-around for absurd lengths).
    const double hop = is_waveform() ? 1.0 : feature_config().hop_length;
    const double chunk_seconds = static_cast<double>(input_length) * hop / sample_rate();
    if (chunk_seconds > max_chunk_seconds)
        fail(where, "input", std::to_string(input_length) + (is_waveform() ? " samples" : " frames") + " (" +
                                 seconds_text(chunk_seconds) + " s of audio per chunk)",
             "at most " + std::to_string(static_cast<int>(max_chunk_seconds)) + " s per chunk");
    if (tags.empty()) fail(where, "tags", "an empty list", "at least one tag");
    std::set<std::string> seen;
    for (const std::string& t : tags)
        if (!seen.insert(t).second) fail(where, "tags", "duplicate tag '" + t + "'", "unique tag names");
    if ((normalization.kind == NormalizationKind::per_bin || normalization.kind == NormalizationKind::mean ||
         normalization.kind == NormalizationKind::pca_whiten) &&
        normalization.mean.size() != bins)
        fail(where, "normalization.mean", std::to_string(normalization.mean.size()) + " values",
             std::to_string(bins) + " (one per feature bin)");
    if (normalization.kind == NormalizationKind::global && normalization.mean.size() != 1)
        fail(where, "normalization.mean", std::to_string(normalization.mean.size()) + " values", "1 (global)");
    if (evaluation.length != input_length)
        fail(where, "evaluation.length", std::to_string(evaluation.length), std::to_string(input_length) + " (input length)");
    // Chunk offsets are allocated per file: bounded like the chunk itself.
    if (evaluation.eval_chunks > 10000 || evaluation.train_crops > 10000)
        fail(where, "evaluation", "eval_chunks " + std::to_string(evaluation.eval_chunks) + ", train_crops " +
                                      std::to_string(evaluation.train_crops),
             "at most 10000 each");
    try {
        evaluation.validate();
    } catch (const Error& e) {
        fail(where, "evaluation", e.what(), "valid chunk options");
    }
}

nlohmann::json ModelCard::to_json() const {
    nlohmann::json j;
    j["card_version"] = card_version;
    j["mtag_version"] = mtag_version;
    j["model"] = {{"preset", preset}, {"options", model_options}};
    j["features"] = features.to_json();
    j["input"] = {{is_waveform() ? "samples" : "frames", input_length}};
    j["tags"] = tags;
    j["task"] = to_string(task);
    j["normalization"] = normalization.to_json();
    j["evaluation"] = chunk_options_to_json(evaluation);
    j["training"] = training;
    if (fixed_input) j["fixed_input"] = true;
    if (!provenance.empty()) j["provenance"] = provenance;
    return j;
}

ModelCard ModelCard::from_json(const nlohmann::json& json, const std::string& where) {
    if (!json.is_object()) fail(where, "card", json.dump().substr(0, 80), "a JSON object");
    const nlohmann::json& version = require(json, "card_version", where);
    if (!version.is_number_integer() || version.get<int>() != card_version)
        fail(where, "card_version", version.dump(), std::to_string(card_version) + " (written by another mtag version?)");
    ModelCard c;
    try {
        c.mtag_version = json.value("mtag_version", std::string());
        const nlohmann::json& model = require(json, "model", where);
        c.preset = require(model, "preset", where + " model").get<std::string>();
        c.model_options = require(model, "options", where + " model");
        c.features = FrontEndConfig::from_json(require(json, "features", where), where + " features");
        const nlohmann::json& input = require(json, "input", where);
        const char* unit = c.is_waveform() ? "samples" : "frames";
        const nlohmann::json& length = require(input, unit, where + " input");
        if (!length.is_number_unsigned()) fail(where, std::string("input.") + unit, length.dump(), "a positive integer");
        c.input_length = length.get<std::size_t>();
        c.tags = require(json, "tags", where).get<std::vector<std::string>>();
        c.task = parse_task(require(json, "task", where).get<std::string>());
        c.normalization = Normalization::from_json(require(json, "normalization", where));
        c.evaluation = chunk_options_from_json(require(json, "evaluation", where), {}, where + " evaluation");
        c.training = json.value("training", nlohmann::json::object());
        c.fixed_input = json.value("fixed_input", false);
        c.provenance = json.value("provenance", nlohmann::json::object());
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("wrong type: ") + e.what());
    }
    c.validate(where);
    return c;
}

void save_run(nn::models::TaggingModel& model, const ModelCard& card, const std::filesystem::path& run_dir) {
    card.validate("model card for " + run_dir.string());
    if (static_cast<std::size_t>(model.n_tags()) != card.tags.size())
        fail("model card for " + run_dir.string(), "tags", std::to_string(card.tags.size()),
             std::to_string(model.n_tags()) + " (the model's outputs)");
    nn::save_model(model, run_dir, card.to_json());
}

namespace {

ModelCard card_of(const nlohmann::json& model_json, const std::filesystem::path& file) {
    if (!model_json.contains("metadata"))
        throw Error("model card " + file.string(), "no \"metadata\" object: not written by mtag train");
    return ModelCard::from_json(model_json["metadata"], "model card " + file.string());
}

}  // namespace

ModelCard load_card(const std::filesystem::path& run_dir) {
    return card_of(nn::read_model_json(run_dir / "model.json"), run_dir / "model.json");
}

void rewrite_card(const ModelCard& card, const std::filesystem::path& run_dir) {
    const std::filesystem::path file = run_dir / "model.json";
    card.validate("model card for " + run_dir.string());
    nlohmann::json j = nn::read_model_json(file);
    card_of(j, file);  // it is a card mtag wrote
    j["metadata"] = card.to_json();
    const std::filesystem::path tmp = run_dir / "model.json.tmp";
    {
        std::ofstream out(tmp);
        out << j.dump(2) << "\n";
        if (!out) throw Error("model card " + tmp.string(), "cannot be written");
    }
    std::filesystem::rename(tmp, file);
}

void check_card_matches_model(const ModelCard& card, const nn::models::TaggingModel& model, const std::string& where) {
    if (card.preset != model.preset().name)
        fail(where, "model.preset", "'" + card.preset + "'", "'" + model.preset().name + "' (the architecture's preset)");
    if (static_cast<std::size_t>(model.n_tags()) != card.tags.size())
        fail(where, "tags", std::to_string(card.tags.size()) + " tags",
             std::to_string(model.n_tags()) + " (the model's outputs)");
    const nn::Shape shape = model.input_shape(1);
    const auto model_length = static_cast<std::size_t>(shape[shape.rank() - 1]);
    if (model_length != card.input_length)
        fail(where, "input", std::to_string(card.input_length), std::to_string(model_length) + " (the model's input)");
    if (card.is_waveform() != (shape.rank() == 2))
        fail(where, "features", card.is_waveform() ? "a waveform front end" : "a spectral front end",
             "one for the model's input " + shape.str());
    if (!card.is_waveform() && shape[1] != card.features.bins())
        fail(where, "features", std::to_string(card.features.bins()) + " bins per frame",
             std::to_string(shape[1]) + " (the model's input rows)");
}

RunModel load_run(const std::filesystem::path& run_dir) {
    const std::filesystem::path file = run_dir / "model.json";
    nn::LoadedModel loaded = nn::load_model(run_dir);
    RunModel run;
    run.card = card_of(loaded.card, file);
    run.model = std::dynamic_pointer_cast<nn::models::TaggingModel>(loaded.model);
    const std::string where = "model card " + file.string();
    if (!run.model) fail(where, "architecture", loaded.model->type(), "TaggingModel (an nn/models preset)");
    check_card_matches_model(run.card, *run.model, where);
    run.model->eval();
    return run;
}

}  // namespace mtag::data
