#include "data/run/model_check.hpp"

#include "data/run/model_card.hpp"
#include "dsp/error.hpp"
#include "nn/layers/dft_melgram.hpp"
#include "nn/model_io.hpp"
#include "nn/models/tagging_model.hpp"
#include "nn/safetensors.hpp"
#include "nn/train/training_state.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <set>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Runs one check; an mtag::Error (or an allocation failure) becomes a problem of the report instead of
// ending the run, so that one report lists everything.
template <class F>
bool attempt(ModelCheckReport& r, F&& check) {
    try {
        check();
        return true;
    } catch (const Error& e) {
        r.problems.emplace_back(e.what());
    } catch (const std::bad_alloc&) {
        r.problems.emplace_back("out of memory while checking (a forged size that the bounds let through?)");
    } catch (const nlohmann::json::exception& e) {
        r.problems.emplace_back(std::string("model card: wrong JSON type: ") + e.what());
    }
    return false;
}

// The card part: what it says, recorded in the report.
void describe_card(const ModelCard& card, ModelCheckReport& r) {
    r.task = to_string(card.task);
    r.tags = card.tags;
    r.front_end = card.features.to_json();
    if (card.is_waveform()) {
        r.front_end_summary = "waveform at " + std::to_string(card.sample_rate()) + " Hz";
    } else {
        const dsp::FeatureConfig& f = card.feature_config();
        r.front_end_summary = dsp::to_string(f.kind) + " at " + std::to_string(f.sample_rate) + " Hz, n_fft " +
                              std::to_string(f.n_fft) + ", hop " + std::to_string(f.hop_length) + ", " +
                              std::to_string(card.features.bins()) + " bins";
    }
    r.input_length = card.input_length;
    r.input_unit = card.is_waveform() ? "samples" : "frames";
    r.chunk_seconds = static_cast<double>(card.chunk_samples()) / card.sample_rate();
    r.normalization = to_string(card.normalization.kind);
}

// Every parameter and buffer of the architecture against the file: presence, dtype, shape; then the file's
// tensors the architecture lacks.
void compare_tensors(nn::Module& module, const nn::SafetensorsFile& file, const std::string& where,
                     ModelCheckReport& r) {
    std::set<std::string> expected;
    auto check = [&](const std::string& name, const nn::Tensor& value, bool integer) {
        expected.insert(name);
        const auto it = file.tensors.find(name);
        if (it == file.tensors.end()) {
            r.problems.push_back(where + ": missing tensor '" + name + "' (expected shape " + value.shape().str() + ")");
            return;
        }
        const std::string dtype = integer ? "I64" : "F32";
        if (it->second.dtype != dtype)
            r.problems.push_back(where + ": tensor '" + name + "' has dtype " + it->second.dtype + ", expected " + dtype);
        if (!(it->second.value.shape() == value.shape()))
            r.problems.push_back(where + ": tensor '" + name + "' has shape " + shape_string(it->second.shape) +
                                 ", expected " + value.shape().str());
    };
    for (nn::Parameter* p : module.parameters()) check(p->name, p->value, false);
    for (nn::Buffer* b : module.buffers()) check(b->name, b->value, b->integer);
    for (const auto& [name, t] : file.tensors)
        if (!expected.count(name))
            r.problems.push_back(where + ": unexpected tensor '" + name + "' (the architecture has no such parameter)");
}

// A front end carried as tensors (DftMelgram's DFT kernels and mel matrix) must not be all zero: the model
// would then see one constant log-mel map for every clip. `mtag model init` wrote such models before
// data/run/fixed_front_end existed; nothing else in the file would show it.
void check_fixed_front_ends(nn::Module& module, const nn::SafetensorsFile& file, const std::string& where,
                            ModelCheckReport& r) {
    for (nn::DftMelgram* layer : nn::modules_of_type<nn::DftMelgram>(module))
        for (nn::Buffer* b : layer->buffers()) {
            const auto it = file.tensors.find(b->name);
            if (it == file.tensors.end() || !(it->second.value.shape() == b->value.shape())) continue;  // reported
            const nn::Tensor& t = it->second.value;
            if (std::all_of(t.data(), t.data() + t.size(), [](float v) { return v == 0.0f; }))
                r.problems.push_back(where + ": tensor '" + b->name + "' of the fixed front end " + layer->type() +
                                     " is all zero, so every clip would give the same input; re-import the model "
                                     "(mtag model import / fetch) or train it again with this version");
        }
}

// RUNDIR/checkpoint.safetensors and .prev, when present: readable and matching their CRC-32.
void check_checkpoints(const fs::path& dir, ModelCheckReport& r) {
    const fs::path current = dir / "checkpoint.safetensors";
    for (const fs::path& path : {current, nn::previous_checkpoint_path(current)}) {
        std::error_code ec;
        if (!fs::exists(path, ec)) continue;
        CheckedCheckpoint c;
        c.file = path.filename().string();
        try {
            nn::load_checkpoint(path);
            const bool has_sum = nn::read_safetensors(path).metadata.count("mtag.checksum") > 0;
            c.ok = true;
            c.status = has_sum ? "CRC-32 ok" : "no checksum (written before checksums existed)";
        } catch (const Error& e) {
            c.status = e.what();
            r.problems.push_back(e.what());
        }
        r.checkpoints.push_back(c);
    }
}

}  // namespace

ModelCheckReport check_model_dir(const fs::path& dir) {
    ModelCheckReport r;
    r.dir = dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        r.problems.push_back("model directory '" + dir.string() + "': " +
                             (fs::exists(dir, ec) ? "is not a directory" : "does not exist"));
        return r;
    }
    const fs::path card_path = dir / "model.json", weights_path = dir / "model.safetensors";
    const std::string card_where = "model card " + card_path.string();
    const std::string weights_where = "weights '" + weights_path.string() + "'";

    // model.json: bounded, valid JSON, and a card whose schema and values pass ModelCard::from_json.
    nlohmann::json card_json;
    const bool have_json = attempt(r, [&] { card_json = nn::read_model_json(card_path); });
    if (have_json) r.card_bytes = fs::file_size(card_path, ec);
    std::optional<ModelCard> card;
    if (have_json)
        attempt(r, [&] {
            if (!card_json.is_object() || !card_json.contains("metadata"))
                throw Error(card_where, "no \"metadata\" object: not a model card written by mtag");
            card = ModelCard::from_json(card_json["metadata"], card_where);
        });
    if (card) describe_card(*card, r);

    // model.safetensors: the bounded reader; values counted, NaN/Inf per tensor.
    std::optional<nn::SafetensorsFile> weights;
    if (fs::exists(weights_path, ec)) {
        r.weights_bytes = fs::file_size(weights_path, ec);
        attempt(r, [&] { weights = nn::read_safetensors(weights_path); });
    } else {
        r.problems.push_back(weights_where + ": missing");
    }
    if (weights)
        for (const auto& [name, t] : weights->tensors) {
            const nn::NonFinite bad = nn::count_non_finite(t.value);
            r.tensors.push_back({name, t.dtype, t.shape, t.value.size(), bad.count});
            r.stored_values += t.value.size();
            if (bad.count > 0)
                r.problems.push_back(weights_where + ": tensor '" + name + "' has " + std::to_string(bad.count) +
                                     " NaN or infinite value(s) of " + std::to_string(t.value.size()) +
                                     " (first at flat index " + std::to_string(bad.first) + ")");
        }

    // The architecture, rebuilt under a budget; compared with the card and the file.
    std::shared_ptr<nn::Module> module;
    if (have_json)
        attempt(r, [&] { module = nn::build_architecture(card_json, r.weights_bytes, card_where); });
    if (module) {
        auto* model = dynamic_cast<nn::models::TaggingModel*>(module.get());
        if (!model) {
            r.problems.push_back(card_where + ": architecture: got type " + module->type() +
                                 ", expected TaggingModel (an nn/models preset)");
        } else {
            r.preset = model->preset().name;
            r.parameters = model->parameter_count();
            if (card) attempt(r, [&] { check_card_matches_model(*card, *model, card_where); });
        }
        if (weights) {
            compare_tensors(*module, *weights, weights_where, r);
            check_fixed_front_ends(*module, *weights, weights_where, r);
        }
    }
    check_checkpoints(dir, r);
    return r;
}

nlohmann::json ModelCheckReport::to_json() const {
    nlohmann::json tensor_list = nlohmann::json::array();
    for (const CheckedTensor& t : tensors)
        tensor_list.push_back(
            {{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"values", t.values}, {"non_finite", t.non_finite}});
    nlohmann::json checkpoint_list = nlohmann::json::array();
    for (const CheckedCheckpoint& c : checkpoints)
        checkpoint_list.push_back({{"file", c.file}, {"ok", c.ok}, {"status", c.status}});
    return {{"dir", dir.string()},
            {"ok", ok()},
            {"problems", problems},
            {"preset", preset},
            {"task", task},
            {"tags", tags},
            {"front_end", front_end},
            {"front_end_summary", front_end_summary},
            {"input", {{"length", input_length}, {"unit", input_unit}, {"seconds", chunk_seconds}}},
            {"normalization", normalization},
            {"parameters", parameters},
            {"stored_values", stored_values},
            {"card_bytes", card_bytes},
            {"weights_bytes", weights_bytes},
            {"tensors", tensor_list},
            {"checkpoints", checkpoint_list}};
}

}  // namespace mtag::data
