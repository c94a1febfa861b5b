#include "nn/model_io.hpp"

#include "dsp/error.hpp"
#include "nn/registry.hpp"
#include "nn/safetensors.hpp"
#include "nn/storage_allocator.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>

namespace mtag::nn {

void save_weights(Module& model, const std::filesystem::path& file) {
    std::vector<SafetensorsEntry> entries;
    for (Parameter* p : model.parameters()) entries.push_back({p->name, p->value, false});
    for (Buffer* b : model.buffers()) entries.push_back({b->name, b->value, b->integer});
    write_safetensors(file, entries, {{"format", "pt"}, {"producer", "mtag"}});
}

void save_model(Module& model, const std::filesystem::path& dir, const nlohmann::json& metadata) {
    std::filesystem::create_directories(dir);
    save_weights(model, dir / "model.safetensors");
    const nlohmann::json card{{"format", "mtag-model"},
                              {"format_version", 1},
                              {"architecture", model.config()},
                              {"metadata", metadata}};
    std::ofstream out(dir / "model.json");
    out << card.dump(2) << "\n";
    if (!out) throw Error("model card '" + (dir / "model.json").string() + "'", "write failed");
}

NonFinite count_non_finite(const Tensor& t) {
    NonFinite r;
    const std::span<const float> v = t.span();
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]) && r.count++ == 0) r.first = i;
    return r;
}

LoadReport load_weights(Module& model, const std::filesystem::path& file, const LoadOptions& options) {
    // One tensor at a time, straight from the file into its parameter: the model's weights plus one tensor at
    // the peak, not the file image and a copy of every tensor beside the model (nn/safetensors.hpp).
    SafetensorsReader st(file);
    const std::string where = "weights '" + file.string() + "'";
    LoadReport report;
    std::set<std::string> seen;
    auto take = [&](const std::string& name, Tensor& dst, bool integer) {
        seen.insert(name);
        if (!st.contains(name)) {
            if (!options.allow_missing)
                throw Error(where,
                            "missing tensor '" + name + "' (expected shape " + dst.shape().str() + ")");
            report.missing.push_back(name);
            return;
        }
        const std::string expected_dtype = integer ? "I64" : "F32";
        if (st.dtype(name) != expected_dtype)
            throw Error(where, "tensor '" + name + "' has dtype " + st.dtype(name) + ", expected " + expected_dtype);
        if (const Shape shape = st.shape(name); !(shape == dst.shape())) {
            const std::string detail = "tensor '" + name + "' has shape " + shape.str() +
                                       ", expected " + dst.shape().str();
            if (!options.skip_mismatched) throw Error(where, detail);
            report.mismatched.push_back(detail);
            return;
        }
        const Tensor value = st.read(name).value;
        if (!options.allow_non_finite)
            if (const NonFinite bad = count_non_finite(value); bad.count > 0)
                throw Error(where, "tensor '" + name + "' has " + std::to_string(bad.count) + " NaN or infinite value" +
                                       (bad.count == 1 ? "" : "s") + " (first at flat index " + std::to_string(bad.first) +
                                       "): the run diverged or the file is damaged; `mtag model check DIR` lists "
                                       "every such tensor");
        dst.copy_from(value);
        report.loaded.push_back(name);
    };
    for (Parameter* p : model.parameters()) take(p->name, p->value, false);
    for (Buffer* b : model.buffers()) take(b->name, b->value, b->integer);
    for (const std::string& name : st.names()) {
        if (seen.count(name)) continue;
        if (!options.allow_unexpected)
            throw Error(where, "unexpected tensor '" + name + "' (the architecture has no such parameter)");
        report.unexpected.push_back(name);
    }
    return report;
}

void load_weights(Module& model, const std::filesystem::path& file, bool allow_unexpected) {
    load_weights(model, file, LoadOptions{.allow_unexpected = allow_unexpected});
}

nlohmann::json read_model_json(const std::filesystem::path& file) {
    const std::string where = "model card '" + file.string() + "'";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw Error(where, std::filesystem::exists(file, ec) ? "is not a regular file"
                                                             : "cannot open (is this a model directory?)");
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) throw Error(where, "cannot read its size: " + ec.message());
    if (size > model_card_max_bytes)
        throw Error(where, "is " + std::to_string(size) + " bytes, more than the limit of " +
                               std::to_string(model_card_max_bytes) + " for a model card");
    std::ifstream in(file);
    if (!in) throw Error(where, "cannot open (permissions?)");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error(where, std::string("malformed JSON: ") + e.what());
    }
}

std::shared_ptr<Module> build_architecture(const nlohmann::json& card, std::uintmax_t weights_bytes,
                                           const std::string& where) {
    if (!card.is_object() || card.value("format", std::string()) != "mtag-model" || !card.contains("architecture"))
        throw Error(where, "expected {\"format\": \"mtag-model\", \"architecture\": ...}");
    const std::uintmax_t slack = std::uintmax_t{256} << 20;
    const std::uintmax_t budget =
        weights_bytes > (std::numeric_limits<std::uintmax_t>::max() - slack) / 2 ? weights_bytes : 2 * weights_bytes + slack;
    AllocationBudget guard(static_cast<std::size_t>(budget), where + " architecture");
    return build_module(card["architecture"]);
}

LoadedModel load_model(const std::filesystem::path& dir) {
    const std::filesystem::path card_path = dir / "model.json", weights = dir / "model.safetensors";
    LoadedModel loaded;
    loaded.card = read_model_json(card_path);
    std::error_code ec;
    const std::uintmax_t weights_bytes = std::filesystem::file_size(weights, ec);
    if (ec) throw Error("weights '" + weights.string() + "'", "cannot open (missing file?)");
    loaded.model = build_architecture(loaded.card, weights_bytes, "model card '" + card_path.string() + "'");
    load_weights(*loaded.model, weights);
    loaded.model->eval();
    return loaded;
}

}  // namespace mtag::nn
